// Finding the records at fault when DIS refuses a whole PutRecords for something one record may
// carry (a partition id that no longer exists after a scale-down, data DIS cannot take): the
// refused records are sent again in parts, by caller first, so one caller's bad record does not
// fail the others, then in halves, until the offending records stand alone.

/** The records of one caller sharing a call: a run of consecutive input indices. */
export interface RecordGroup {
  /** One past the group's last record (input index). */
  readonly end: number;
  /** Absolute time (ms) after which none of the group's records starts an attempt. */
  readonly deadline: number;
}

/**
 * The parts to resend refused records (input indices, ascending) in: one per caller (group) when
 * they span several and that fits in `maxParts` (at least 2), else two halves.
 */
export function splitRefused(
  indices: readonly number[],
  groups: readonly RecordGroup[] | undefined,
  maxParts: number,
): number[][] {
  if (groups !== undefined) {
    const parts: number[][] = [];
    let group = 0;
    let current: number[] = [];
    for (const index of indices) {
      let moved = false;
      while (group < groups.length && index >= (groups[group]?.end ?? Infinity)) {
        group += 1;
        moved = true;
      }
      if (moved && current.length > 0) {
        parts.push(current);
        current = [];
      }
      current.push(index);
    }
    if (current.length > 0) parts.push(current);
    if (parts.length > 1 && parts.length <= maxParts) return parts;
  }
  const half = Math.ceil(indices.length / 2);
  return [indices.slice(0, half), indices.slice(half)];
}
