import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.js';
import { clientAddress } from './client-address.js';
import type { AppConfig, AppEnv } from './context.js';

const isUpload = (method: string, path: string) => (method === 'POST' && path === '/v1/images') || (method === 'PUT' && path.startsWith('/v1/uploads/'));

/**
 * Overload turns into clear refusals instead of a slow death: at most MAX_CONCURRENT_UPLOADS
 * bodies stream in at once, MAX_UPLOADS_PER_KEY of them for one key, and no upload is taken while
 * MAX_QUEUE_DEPTH images wait for a worker, counting those still streaming in (each will join the
 * queue). All answer 503 with Retry-After.
 */
export function limitUploads(config: AppConfig, queueDepth?: () => number): MiddlewareHandler<AppEnv> {
  let inFlight = 0;
  const perCaller = new Map<string, number>();
  return async (c, next) => {
    if (!isUpload(c.req.method, c.req.path)) return next();
    if (queueDepth && queueDepth() + inFlight >= config.maxQueueDepth) {
      throw new AppError(503, 'queue_full', 'Too many images are waiting to be processed; try again shortly.', { 'retry-after': '10' });
    }
    if (inFlight >= config.maxConcurrentUploads) {
      throw new AppError(503, 'too_many_uploads', 'Too many uploads are in progress; try again shortly.', { 'retry-after': '2' });
    }
    // One key (or one address, without a key) cannot take every slot.
    const who = c.get('owner')?.id ?? `address:${clientAddress(c)}`;
    const mine = perCaller.get(who) ?? 0;
    if (mine >= config.maxUploadsPerKey) {
      throw new AppError(503, 'too_many_uploads', `This key already has ${mine} uploads in progress, the most it may; try again when one ends.`, { 'retry-after': '2' });
    }
    inFlight++;
    perCaller.set(who, mine + 1);
    try {
      await next();
    } finally {
      inFlight--;
      const left = (perCaller.get(who) ?? 1) - 1;
      if (left > 0) perCaller.set(who, left);
      else perCaller.delete(who);
    }
  };
}

/**
 * RATE_LIMIT_PER_MINUTE per caller, as token buckets: bursts up to the minute's allowance, then
 * 429 with the seconds until the next token. A caller is an API key; without one (signed links,
 * direct-upload PUTs, auth off) it is the client's address, so one client's bogus links never lock
 * out another's. A wrong key is charged to its address too: guessing keys costs the guesser.
 */
export function createRateLimiter(config: AppConfig, now: () => number = Date.now) {
  const perSecond = config.rateLimitPerMinute / 60;
  const buckets = new Map<string, { tokens: number; at: number }>();
  /** Takes one token of `who`'s bucket, or throws 429. */
  function take(who: string): void {
    if (config.rateLimitPerMinute === 0) return;
    const t = now();
    const bucket = buckets.get(who) ?? { tokens: config.rateLimitPerMinute, at: t };
    bucket.tokens = Math.min(config.rateLimitPerMinute, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
    bucket.at = t;
    buckets.set(who, bucket);
    if (bucket.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
      throw new AppError(429, 'rate_limited', `More than ${config.rateLimitPerMinute} requests a minute; slow down.`, { 'retry-after': String(wait) });
    }
    bucket.tokens -= 1;
  }
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (c.req.path.startsWith('/v1/')) take(c.get('owner')?.id ?? `address:${clientAddress(c)}`);
    return next();
  };
  return { take, middleware };
}
