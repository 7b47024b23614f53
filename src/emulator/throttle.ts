export interface WriteLimits {
  readonly recordsPerSecond: number;
  readonly bytesPerSecond: number;
}

/** Per-partition write budget: a token bucket for records and one for bytes, refilled on the clock. */
export interface WriteBucket {
  /** Takes one record of `bytes` if both buckets allow it; false means DIS.4303. */
  tryTake(bytes: number, now: number): boolean;
}

export function createWriteBucket(limits: WriteLimits, startAt: number): WriteBucket {
  // A bucket holds at most one second of traffic, so a burst of a full second's quota passes and
  // anything above it in the same second fails, like DIS's per-second limit.
  let records = limits.recordsPerSecond;
  let bytes = limits.bytesPerSecond;
  let last = startAt;

  return {
    tryTake(size, now) {
      if (now > last) {
        const elapsed = (now - last) / 1000;
        records = Math.min(limits.recordsPerSecond, records + elapsed * limits.recordsPerSecond);
        bytes = Math.min(limits.bytesPerSecond, bytes + elapsed * limits.bytesPerSecond);
        last = now;
      }
      if (records < 1 || bytes < size) return false;
      records -= 1;
      bytes -= size;
      return true;
    },
  };
}
