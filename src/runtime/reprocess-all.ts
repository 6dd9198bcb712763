import type { Config } from '../config/config.js';
import { isAppError } from '../errors.js';
import { announceAgain, createImages, currentSettings, type Images } from '../lifecycle/images.js';
import { isCurrent } from '../processing/manifest.js';
import { createGate } from '../processing/gate.js';
import { inParallel } from '../processing/in-parallel.js';
import { idFromOriginalKey, ORIGINALS_PREFIX } from '../processing/keys.js';
import { createProcessor } from '../processing/processor.js';
import type { ObjectStore, Retrigger } from '../storage/object-store.js';

export interface Tally {
  reprocessed: number;
  skipped: number;
  failed: number;
  /** `id: why`, for each failure. */
  failures: string[];
}

type Outcome = 'reprocessed' | 'skipped' | { failed: string };

/** Runs `each` over `ids`, `concurrency` at a time, counting outcomes and reporting progress. */
async function tally(ids: string[], concurrency: number, each: (id: string) => Promise<Outcome>, onProgress: (done: number, total: number) => void): Promise<Tally> {
  const result: Tally = { reprocessed: 0, skipped: 0, failed: 0, failures: [] };
  await inParallel(ids, concurrency, async (id) => {
    const outcome = await each(id).catch((error: unknown): Outcome => ({ failed: error instanceof Error ? error.message : String(error) }));
    if (typeof outcome === 'string') result[outcome]++;
    else {
      result.failed++;
      result.failures.push(`${id}: ${outcome.failed}`);
    }
    onProgress(result.reprocessed + result.skipped + result.failed, ids.length);
  });
  return result;
}

/** The originals in a bucket uploaded since `since`, oldest first. */
async function originalIds(input: ObjectStore, since: Date | undefined): Promise<string[]> {
  const found: { id: string; at: number }[] = [];
  for await (const object of input.list(ORIGINALS_PREFIX)) {
    const id = idFromOriginalKey(object.key);
    if (id && (!since || object.lastModified >= since)) found.push({ id, at: object.lastModified.getTime() });
  }
  return found.sort((a, b) => a.at - b.at).map((entry) => entry.id);
}

/**
 * The lifecycle's own reprocess, if stale (it judges what is current and clears the manifest), for
 * every image an owner-less caller sees; an image deleted meanwhile is skipped.
 */
async function reprocessStale(images: Images, id: string): Promise<boolean> {
  return images.reprocess(id, undefined, { ifStale: true }).catch((error: unknown) => {
    if (isAppError(error) && error.status === 404) return false;
    throw error;
  });
}

/**
 * Local folders (or any buckets this process can reach): every stale image rendered here, now,
 * with `config`'s settings, at most CONCURRENCY at once.
 */
export async function reprocessHere(input: ObjectStore, output: ObjectStore, config: Config, since: Date | undefined, onProgress: (done: number, total: number) => void): Promise<Tally> {
  const processor = createProcessor({ input, output, config, renderGate: createGate(config.concurrency) });
  const images = createImages({ input, output, config });
  return tally(await originalIds(input, since), config.concurrency * 2, async (id) => {
    const image = await images.find(id, undefined).catch((error: unknown) => {
      if (isAppError(error) && error.status === 404) return undefined;
      throw error;
    });
    if (!image || isCurrent(image.manifest, currentSettings(config, image.original))) return 'skipped';
    // Rendered again in place: a done image stays done (and served) unless the new rendering is done too.
    const outcome = await processor.process(id, { again: true });
    if (outcome.status === 'failed') return { failed: `${outcome.error.code}: ${outcome.error.message}` };
    return outcome.status === 'done' ? 'reprocessed' : 'skipped';
  }, onProgress);
}

/**
 * Buckets whose events reach a processor elsewhere (a deployment's S3 buckets): every stale original
 * announced again (on S3, copied onto itself), so its ObjectCreated event has the processor Lambda render it (with the deployment's settings, which `config` must match to
 * tell what is stale). Counts what was started; failures then show on each image and its alarms.
 */
export async function retriggerStale(input: ObjectStore & Retrigger, output: ObjectStore, config: Config, since: Date | undefined, onProgress: (done: number, total: number) => void): Promise<Tally> {
  // As the API's reprocess on AWS: the copy keeps the bytes (and so the ETag), the cleared manifest makes it new work.
  const images = createImages({ input, output, config, enqueue: announceAgain(input), marksPending: false });
  return tally(await originalIds(input, since), 8, async (id) => ((await reprocessStale(images, id)) ? 'reprocessed' : 'skipped'), onProgress);
}

interface ListedImage {
  id: string;
  createdAt: string;
}

/**
 * A running server, through its API: each image asked to reprocess if stale (the server judges
 * with its own settings), then followed until it ends, a few at a time.
 */
export async function reprocessViaServer(server: string, key: string | undefined, since: Date | undefined, onProgress: (done: number, total: number) => void): Promise<Tally> {
  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(new URL(path, server.endsWith('/') ? server : `${server}/`), { ...init, headers: { ...(key ? { 'x-api-key': key } : {}) } });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${response.status} ${String(body.detail ?? body.code ?? response.statusText)}`);
    return { status: response.status, body };
  };
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const { body } = await api(`v1/images?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const image of body.items as ListedImage[]) if (!since || new Date(image.createdAt) >= since) ids.push(image.id);
    cursor = body.nextCursor as string | undefined;
  } while (cursor);
  return tally(ids.reverse(), 4, async (id) => {
    const { status } = await api(`v1/images/${encodeURIComponent(id)}/reprocess?ifStale=true`, { method: 'POST' });
    if (status === 200) return 'skipped';
    for (;;) {
      // Held by the server until the image ends (or 20 s pass): one request per image, not a poll every 250 ms.
      const { body } = await api(`v1/images/${encodeURIComponent(id)}?wait=20`);
      if (body.status === 'done') return 'reprocessed';
      if (body.status === 'failed') {
        const error = body.error as { code: string; message: string } | undefined;
        return { failed: `${error?.code ?? 'failed'}: ${error?.message ?? ''}` };
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }, onProgress);
}
