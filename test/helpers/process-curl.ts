// Reads the ready-to-paste curl command that the dev banner prints, the way a shell would, so a
// test can send exactly that request. Only what a pasted command may contain is understood
// (single and double quotes, backslash line continuations, -X, -H, -d, -s/-S); anything else is
// an error, so a banner that changes shape fails the test instead of being half-read.

export interface CurlRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
}

/** The command that starts at the first line containing `curl `, with its continuation lines. */
export function findCurlCommand(output: string): string {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => /(^|\s)curl\s/.test(line));
  if (start < 0) throw new Error('no curl command in the output');
  const command: string[] = [];
  for (const line of lines.slice(start)) {
    command.push(line);
    if (!line.trimEnd().endsWith('\\')) break;
  }
  return command.join('\n');
}

/** POSIX-shell word splitting for the subset above. */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  const append = (text: string): void => {
    word = (word ?? '') + text;
  };
  while (i < command.length) {
    const c = command.charAt(i);
    if (c === '\\' && command.charAt(i + 1) === '\n') {
      i += 2;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (word !== undefined) words.push(word);
      word = undefined;
      i += 1;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new Error('unterminated single quote');
      append(command.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      const end = command.indexOf('"', i + 1);
      if (end < 0) throw new Error('unterminated double quote');
      const inner = command.slice(i + 1, end);
      if (/[$`\\]/.test(inner)) throw new Error('double quotes with expansions are not supported');
      append(inner);
      i = end + 1;
    } else if (/[$`|;&<>()\\]/.test(c)) {
      throw new Error(`unsupported shell syntax ${JSON.stringify(c)}`);
    } else {
      append(c);
      i += 1;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

export function parseCurl(command: string): CurlRequest {
  const words = shellWords(command);
  if (words[0] !== 'curl') throw new Error('not a curl command');
  let method: string | undefined;
  let url: string | undefined;
  let body: string | undefined;
  const headers: Record<string, string> = {};
  for (let i = 1; i < words.length; i += 1) {
    const word = words[i] ?? '';
    const value = (): string => {
      const next = words[i + 1];
      if (next === undefined) throw new Error(`${word} needs a value`);
      i += 1;
      return next;
    };
    if (word === '-X' || word === '--request') method = value();
    else if (word === '-H' || word === '--header') {
      const header = value();
      const colon = header.indexOf(':');
      if (colon <= 0) throw new Error(`bad header ${JSON.stringify(header)}`);
      headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    } else if (word === '-d' || word === '--data' || word === '--data-raw') body = value();
    else if (/^-[sS]+$/.test(word) || word === '--silent' || word === '--show-error') continue;
    else if (word.startsWith('-')) throw new Error(`unsupported curl option ${word}`);
    else if (url === undefined) url = word;
    else throw new Error(`a second URL ${JSON.stringify(word)}`);
  }
  if (url === undefined) throw new Error('the curl command has no URL');
  // curl's own defaults: -d means POST with a form content type unless one is given.
  return {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    url,
    headers:
      body !== undefined && headers['content-type'] === undefined
        ? { ...headers, 'content-type': 'application/x-www-form-urlencoded' }
        : headers,
    body,
  };
}
