/** A `Retry-After` value in whole seconds, at least 1 (0 would invite an immediate retry storm). */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}
