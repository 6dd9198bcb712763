import { setTimeout as sleep } from 'node:timers/promises';
import { isFinal } from '../processing/manifest.js';
import type { FoundImage } from './images.js';

/** Where processing runs elsewhere (S3 events on AWS), the image is read again this often. */
const POLL_MS = 1000;
/** Where this process runs it, its queue says when a run ends; a read this often covers anything else. */
const NOTIFIED_POLL_MS = 5000;
/** Never two reads closer than this, even when the queue says "ended" before the image was queued. */
const MIN_GAP_MS = 200;

export interface WaitOptions {
  /** Epoch milliseconds: past it, the image is answered as it is. */
  until: number;
  /** Resolves true when this process's run of the image ends, false at once when it has none. */
  ended?: (id: string) => Promise<boolean>;
  /** The client went away: stop waiting. */
  signal?: AbortSignal;
}

/**
 * The image once it is `done` or `failed`, or as it is when `until` comes (`GET /v1/images/{id}?wait=N`):
 * a timer and a promise per waiting request, no thread, and a read per second at most.
 */
export async function waitForEnd(find: () => Promise<FoundImage>, id: string, options: WaitOptions): Promise<FoundImage> {
  for (;;) {
    const record = await find();
    const now = Date.now();
    if ((record.manifest && isFinal(record.manifest.status)) || now >= options.until || options.signal?.aborted) return record;
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([stop.signal, options.signal]) : stop.signal;
    const tick = sleep(Math.min(options.ended ? NOTIFIED_POLL_MS : POLL_MS, options.until - now), undefined, { signal }).then(
      () => false,
      () => false,
    );
    const ran = await (options.ended ? Promise.race([tick, options.ended(id)]) : tick);
    stop.abort();
    // A run that ended is read at once; anything else waits out the gap.
    const gap = ran ? 0 : MIN_GAP_MS - (Date.now() - now);
    if (gap > 0 && !options.signal?.aborted) await sleep(Math.min(gap, Math.max(0, options.until - Date.now())));
  }
}
