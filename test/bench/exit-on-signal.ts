/**
 * How a benchmark child process (DIS stand-in, baseline) ends: on its first SIGTERM or SIGINT,
 * `close` runs once and the process exits 0, or 1 if closing failed, so the benchmark can tell a
 * clean stop from a broken one.
 */
export function exitOnSignal(close: () => Promise<void>): void {
  let closing = false;
  const onSignal = (): void => {
    if (closing) return;
    closing = true;
    close().then(
      () => {
        process.exit(0);
      },
      () => {
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
