// Templates (deploy/base's gateway-config.yaml and secret.example.yaml, hand-written env files)
// mark what the operator must fill in with `REPLACE-…`, `REPLACE_ME` or `CHANGE-ME`. A value still
// holding one was never filled in: production refuses it rather than start against someone else's
// Redis or with a secret everyone can read in the repository. Case-sensitive, so that ordinary
// words (`replace`, `change-me-later` in a stream name) are not caught.

const PLACEHOLDER = /REPLACE|CHANGE-ME/;

/** The wording every placeholder finding shares; never the value, which may be a secret. */
export const PLACEHOLDER_HINT = 'holds a placeholder (REPLACE… or CHANGE-ME), not a real value';

export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER.test(value);
}

/** The path of every string in a parsed document that is a placeholder, in document order. */
export function findPlaceholders(
  value: unknown,
  path: readonly PropertyKey[] = [],
): PropertyKey[][] {
  if (typeof value === 'string') return isPlaceholder(value) ? [[...path]] : [];
  if (Array.isArray(value))
    return value.flatMap((item: unknown, index) => findPlaceholders(item, [...path, index]));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]: [string, unknown]) =>
    findPlaceholders(child, [...path, key]),
  );
}
