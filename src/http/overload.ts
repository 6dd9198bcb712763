import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../errors.js';
import { createTokenBuckets } from '../processing/token-buckets.js';
import { clientAddress } from './client-address.js';
import type { AppConfig, AppEnv } from './context.js';

const isUpload = (method: string, path: string) => (method === 'POST' && path === '/v1/images') || (method === 'PUT' && path.startsWith('/v1/uploads/'));

/** Who a request counts against: its owner (an API key, or the key that minted its upload URL), else its address. */
export const callerOf = (c: Context<AppEnv>) => c.get('owner')?.id ?? `address:${clientAddress(c)}`;

/** How a caller past its share waits for a slot: how many may wait per caller, in all, and how long. */
export interface ShareWaiting {
  perCaller: number;
  total: number;
  ms: number;
}

/**
 * What each caller has in progress (uploads streaming in, direct PUTs included, and reprocesses not
 * yet done): at most MAX_UPLOADS_PER_KEY, so one key cannot take every slot. `take` answers a
 * release, or refuses with 503 and Retry-After. `wait` (uploads) first queues the request for the
 * caller's next free slot, in arrival order: a bulk client's 40 uploads are taken eight at a time
 * instead of refused. A waiting request reads none of its body, so it holds a socket, not memory;
 * at most `perCaller` wait per caller and `total` in all, each at most `ms`, then 503.
 */
export function createCallerShares(max: number, waiting: ShareWaiting) {
  const held = new Map<string, number>();
  const queues = new Map<string, Array<() => void>>();
  let waitingNow = 0;
  const refusal = (mine: number, what: string) =>
    new AppError(503, 'too_many_uploads', `This key already has ${mine} ${what} in progress, the most it may; try again when one ends.`, { 'retry-after': '2' });

  /** A release of one of `who`'s slots: handed to the caller's next waiting request, if any. */
  function releaseOf(who: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = queues.get(who)?.shift();
      if (queues.get(who)?.length === 0) queues.delete(who);
      if (next) return next();
      const left = (held.get(who) ?? 1) - 1;
      if (left > 0) held.set(who, left);
      else held.delete(who);
    };
  }

  function take(who: string, what: string): () => void {
    const mine = held.get(who) ?? 0;
    if (mine >= max) throw refusal(mine, what);
    held.set(who, mine + 1);
    return releaseOf(who);
  }

  function wait(who: string, what: string, signal?: AbortSignal): Promise<() => void> {
    const mine = held.get(who) ?? 0;
    const queue = queues.get(who) ?? [];
    // Taken now, not in a later tick: requests that arrive together must each see the others' slots.
    if (mine < max) return Promise.resolve(take(who, what));
    if (queue.length >= waiting.perCaller || waitingNow >= waiting.total || waiting.ms === 0) return Promise.reject(refusal(mine, what));
    return new Promise((resolve, reject) => {
      const leave = (error?: AppError) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', gone);
        waitingNow--;
        const at = queue.indexOf(granted);
        if (at >= 0) queue.splice(at, 1);
        if (queue.length === 0 && queues.get(who) === queue) queues.delete(who);
        if (error) reject(error);
      };
      // The slot passes from the release to this request as it is: the caller's count is unchanged.
      const granted = () => {
        leave();
        resolve(releaseOf(who));
      };
      const gone = () => leave(refusal(max, what));
      const timer = setTimeout(gone, waiting.ms);
      signal?.addEventListener('abort', gone);
      waitingNow++;
      queue.push(granted);
      queues.set(who, queue);
    });
  }

  return { take, wait };
}

export type CallerShares = ReturnType<typeof createCallerShares>;

/**
 * Overload turns into clear refusals instead of a slow death: at most MAX_CONCURRENT_UPLOADS
 * bodies stream in at once, a caller's share of them (see createCallerShares: past it, a short wait
 * in line), and no upload is taken while MAX_QUEUE_DEPTH images wait for a worker, counting those
 * still streaming in (each will join the queue). All answer 503 with Retry-After.
 */
export function limitUploads(config: AppConfig, shares: CallerShares, queueDepth?: () => number): MiddlewareHandler<AppEnv> {
  let inFlight = 0;
  const refusal = () =>
    queueDepth && queueDepth() + inFlight >= config.maxQueueDepth
      ? queueFull()
      : inFlight >= config.maxConcurrentUploads
        ? new AppError(503, 'too_many_uploads', 'Too many uploads are in progress; try again shortly.', { 'retry-after': '2' })
        : undefined;
  return async (c, next) => {
    if (!isUpload(c.req.method, c.req.path)) return next();
    const before = refusal();
    if (before) throw before;
    const release = await shares.wait(callerOf(c), 'uploads or reprocesses', c.req.raw.signal);
    // A wait for the caller's slot may have been long: the queue and the server's slots are judged again.
    const after = refusal();
    if (after) {
      release();
      throw after;
    }
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
