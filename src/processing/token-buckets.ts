/**
 * A token bucket per name: `perPeriod` tokens a `periodMs`, bursts up to a whole period's
 * allowance. `take` spends one, or answers the seconds until the next one.
 */
export function createTokenBuckets(perPeriod: number, periodMs: number, now: () => number = Date.now) {
  const perMs = perPeriod / periodMs;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    /** Undefined when a token was taken; else the seconds to wait for one. */
    take(name: string): number | undefined {
      const t = now();
      const bucket = buckets.get(name) ?? { tokens: perPeriod, at: t };
      bucket.tokens = Math.min(perPeriod, bucket.tokens + (t - bucket.at) * perMs);
      bucket.at = t;
      buckets.set(name, bucket);
      if (bucket.tokens < 1) return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
      bucket.tokens -= 1;
      return undefined;
    },
  };
}
