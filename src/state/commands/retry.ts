/** Exponential retry backoff: base, 2×base, 4×base… after attempts 1, 2, 3…, capped at one hour. */
export function retryDelayMs(backoffMs: number, attemptThatFailed: number): number {
  return Math.min(backoffMs * 2 ** Math.max(0, attemptThatFailed - 1), 3_600_000);
}
