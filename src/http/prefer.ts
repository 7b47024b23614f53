// RFC 7240 `Prefer`: the preferences the records endpoint understands.

export interface Preferences {
  /** `wait=N`: seconds the caller is willing to wait. */
  readonly waitS?: number;
  readonly respondAsync: boolean;
}

export function parsePrefer(values: readonly string[] | undefined): Preferences {
  let waitS: number | undefined;
  let respondAsync = false;
  for (const value of values ?? []) {
    for (const item of value.split(',')) {
      const [token = '', ...rest] = item.split(';')[0]?.split('=') ?? [];
      const name = token.trim().toLowerCase();
      const arg = rest
        .join('=')
        .trim()
        .replace(/^"(.*)"$/, '$1');
      if (name === 'respond-async') respondAsync = true;
      else if (name === 'wait' && /^\d{1,6}$/.test(arg) && waitS === undefined) waitS = Number(arg);
    }
  }
  return waitS === undefined ? { respondAsync } : { waitS, respondAsync };
}
