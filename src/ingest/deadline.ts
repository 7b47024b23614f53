// Waiting for a DIS call no longer than the caller's deadline, without abandoning it: the call
// goes on (bounded by its request timeout) and its outcome still settles what depends on it.

export type ByDeadline<T> =
  | { readonly late: false; readonly value: T }
  | { readonly late: true; readonly pending: Promise<T> };

/**
 * `pending`'s value if it settles by `deadline` (ms, `now`'s clock); after that `late` with the
 * promise, which the caller must then handle (its rejection is not reported here). On every
 * synchronous request: one promise, one timer and one subscription (a profile of the single-event
 * benchmark put an async function with Promise.race at twice the cost).
 */
export function waitUntil<T>(
  pending: Promise<T>,
  deadline: number,
  now: () => number,
): Promise<ByDeadline<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => {
        resolve({ late: true, pending });
      },
      Math.max(0, deadline - now()),
    );
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve({ late: false, value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        // Passed on as it came: callers tell the refusals of ingest apart by their class.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(error);
      },
    );
  });
}
