import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../errors.js';
import { createTokenBuckets } from '../processing/token-buckets.js';
import { clientAddress } from './client-address.js';
import type { AppConfig, AppEnv } from './context.js';

const isUpload = (method: string, path: string) => (method === 'POST' && path === '/v1/images') || (method === 'PUT' && path.startsWith('/v1/uploads/'));

/** Who a request counts against: its owner (an API key, or the key that minted its upload URL), else its address. */
export const callerOf = (c: Context<AppEnv>) => c.get('owner')?.id ?? `address:${clientAddress(c)}`;

/**
 * What each caller has in progress (uploads streaming in, direct PUTs included, and reprocesses not
 * yet done): at most MAX_UPLOADS_PER_KEY, so one key cannot take every slot. `take` answers a
 * release, or refuses with 503 and Retry-After.
 */
export function createCallerShares(max: number) {
  const held = new Map<string, number>();
  return {
    take(who: string, what: string): () => void {
      const mine = held.get(who) ?? 0;
      if (mine >= max) {
        throw new AppError(503, 'too_many_uploads', `This key already has ${mine} ${what} in progress, the most it may; try again when one ends.`, { 'retry-after': '2' });
      }
      held.set(who, mine + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (held.get(who) ?? 1) - 1;
        if (left > 0) held.set(who, left);
        else held.delete(who);
      };
    },
  };
}

export type CallerShares = ReturnType<typeof createCallerShares>;

/**
 * Overload turns into clear refusals instead of a slow death: at most MAX_CONCURRENT_UPLOADS
 * bodies stream in at once, a caller's share of them (see createCallerShares), and no upload is
 * taken while MAX_QUEUE_DEPTH images wait for a worker, counting those still streaming in (each
 * will join the queue). All answer 503 with Retry-After.
 */
export function limitUploads(config: AppConfig, shares: CallerShares, queueDepth?: () => number): MiddlewareHandler<AppEnv> {
  let inFlight = 0;
  return async (c, next) => {
    if (!isUpload(c.req.method, c.req.path)) return next();
    if (queueDepth && queueDepth() + inFlight >= config.maxQueueDepth) throw queueFull();
    if (inFlight >= config.maxConcurrentUploads) {
      throw new AppError(503, 'too_many_uploads', 'Too many uploads are in progress; try again shortly.', { 'retry-after': '2' });
    }
    const release = shares.take(callerOf(c), 'uploads or reprocesses');
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
      release();
    }
  };
}

export const queueFull = () => new AppError(503, 'queue_full', 'Too many images are waiting to be processed; try again shortly.', { 'retry-after': '10' });

/**
 * RATE_LIMIT_PER_MINUTE per caller, as token buckets: bursts up to the minute's allowance, then
 * 429 with the seconds until the next token. A caller is an API key; without one (signed links,
 * direct-upload PUTs, auth off) it is the client's address, so one client's bogus links never lock
 * out another's. A wrong key is charged to its address too: guessing keys costs the guesser.
 */
export function createRateLimiter(config: AppConfig, now: () => number = Date.now) {
  const buckets = createTokenBuckets(config.rateLimitPerMinute, 60_000, now);
  /** Takes one token of `who`'s bucket, or throws 429. */
  function take(who: string): void {
    if (config.rateLimitPerMinute === 0) return;
    const wait = buckets.take(who);
    if (wait !== undefined) {
      throw new AppError(429, 'rate_limited', `More than ${config.rateLimitPerMinute} requests a minute; slow down.`, { 'retry-after': String(wait) });
    }
  }
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (c.req.path.startsWith('/v1/')) take(callerOf(c));
    return next();
  };
  return { take, middleware };
}
