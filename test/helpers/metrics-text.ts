// Reads the two sides of the metrics contract: a Prometheus text scrape and README's metrics table.

export interface MetricFamily {
  readonly type: string;
  /** Label names seen on the family's samples (`le` and `quantile` left out). */
  readonly labels: Set<string>;
  samples: number;
}

const SUFFIXES = ['_bucket', '_sum', '_count'] as const;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g;

/** Families by name, from `# TYPE` lines, with the label names of their samples. */
export function parseScrape(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const lines = text.split('\n');
  for (const line of lines) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type?.[1] !== undefined && type[2] !== undefined)
      families.set(type[1], { type: type[2], labels: new Set(), samples: 0 });
  }
  for (const line of lines) {
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s/.exec(line);
    const name = sample?.[1];
    if (name === undefined) throw new Error(`not a sample line: ${line}`);
    const family = familyOf(name, families);
    if (family === undefined) throw new Error(`sample ${name} has no # TYPE line`);
    family.samples += 1;
    for (const match of (sample?.[2] ?? '').matchAll(LABEL)) {
      const label = match[1];
      if (label !== undefined && label !== 'le' && label !== 'quantile') family.labels.add(label);
    }
  }
  return families;
}

function familyOf(
  sample: string,
  families: ReadonlyMap<string, MetricFamily>,
): MetricFamily | undefined {
  const exact = families.get(sample);
  if (exact !== undefined) return exact;
  const suffix = SUFFIXES.find((s) => sample.endsWith(s));
  return suffix === undefined ? undefined : families.get(sample.slice(0, -suffix.length));
}

export interface DocumentedMetric {
  /** A name, or a prefix pattern such as `process_*`. */
  readonly name: string;
  readonly type: string;
  readonly labels: readonly string[];
}

const code = (cell: string): string[] =>
  [...cell.matchAll(/`([^`]+)`/g)].flatMap((m) => m[1] ?? []);

/** The rows of README's "### Metrics" table: one entry per name in the Name cell. */
export function parseMetricsTable(readme: string): DocumentedMetric[] {
  const start = readme.indexOf('\n### Metrics\n');
  if (start < 0) throw new Error('README has no "### Metrics" section');
  const end = readme.indexOf('\n### ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const rows: DocumentedMetric[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const [name, type, labels] = line
      .split('|')
      .slice(1, 4)
      .map((cell) => cell.trim());
    if (name === undefined || type === undefined || labels === undefined)
      throw new Error(`short row: ${line}`);
    for (const n of code(name)) rows.push({ name: n, type, labels: code(labels) });
  }
  return rows;
}

/** `process_*` matches `process_cpu_seconds_total`; a plain name matches only itself. */
export function matchesName(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}
