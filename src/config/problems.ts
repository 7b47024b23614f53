// How problems and config paths are written, shared by every step of loadConfig.

/** `['streams', 'clicks', 'partitions']` → `streams.clicks.partitions`; indexes as `[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text === '' ? '(top level)' : text;
}

/** Every problem on its own line, ready for stderr; the loader never puts a secret value in one. */
export function formatProblems(problems: readonly string[]): string {
  const heading =
    problems.length === 1
      ? 'The configuration has 1 problem:'
      : `The configuration has ${problems.length} problems:`;
  return [heading, ...problems.map((problem) => `  - ${problem}`)].join('\n');
}

/** Problems and warnings gathered across the steps of one load. */
export interface Findings {
  readonly problems: string[];
  readonly warnings: string[];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
