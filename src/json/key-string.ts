// The one rule for strings that become DIS partition keys or gateway ids (a record's `id` and
// `partition_key`, the key at a stream's pointer, a webhook's delivery id). It sits with the JSON
// helpers because the records parser and the webhook profiles both apply it to what they read.

/** Partition keys and ids are 1..256 characters. */
export const MAX_KEY_CHARS = 256;

/** Why a string cannot be a partition key, id or correlation id; undefined when it can. */
export function keyStringProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (value.length > MAX_KEY_CHARS) {
    // Characters are code points; only a longer string can have too many.
    let chars = 0;
    for (let k = 0; k < value.length; chars++) k += (value.codePointAt(k) ?? 0) > 0xffff ? 2 : 1;
    if (chars > MAX_KEY_CHARS) return `must be at most ${MAX_KEY_CHARS} characters`;
  }
  if (!value.isWellFormed()) return 'must not contain a lone UTF-16 surrogate';
  return undefined;
}
