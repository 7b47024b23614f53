// Waiting for a DIS call no longer than the caller's deadline, without abandoning it: the call
// goes on (bounded by its request timeout) and its outcome still settles what depends on it.

export type ByDeadline<T> =
  | { readonly late: false; readonly value: T }
  | { readonly late: true; readonly pending: Promise<T> };

/**
 * `pending`'s value if it settles by `deadline` (ms, `now`'s clock); after that `late` with the
 * promise, which the caller must then handle (its rejection is not reported here).
 */
export async function waitUntil<T>(
  pending: Promise<T>,
  deadline: number,
  now: () => number,
): Promise<ByDeadline<T>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - now()), undefined);
  });
  try {
    const first = await Promise.race([pending.then((value) => ({ value })), late]);
    return first === undefined ? { late: true, pending } : { late: false, value: first.value };
  } finally {
    clearTimeout(timer);
  }
}
