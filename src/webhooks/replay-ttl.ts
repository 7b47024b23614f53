// How long a delivery id is remembered: config computes its default from it, the guard applies it.

/**
 * Longer than the whole window in which one signed timestamp passes the tolerance check, so a replay
 * is caught either by the guard or by the timestamp (fixture case sw-s-02): a delivery received at
 * ts - tolerance still passes at ts + tolerance + 0.999 s (the check works in whole seconds), hence
 * 2 × tolerance + 1. At least 10 min, for profiles without a signed timestamp (GitHub).
 */
export function replayTtlS(toleranceS: number): number {
  return Math.max(2 * toleranceS + 1, 600);
}
