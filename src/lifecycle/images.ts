import { AppError } from '../errors.js';
import { forgetTwin, settingsPrint, type SettingsConfig } from '../processing/dedup.js';
import { hasMark } from '../imaging/watermark.js';
import { IDEMPOTENCY_PREFIX, idFromOriginalKey, isValidId, manifestKey, originalKey, ORIGINALS_PREFIX } from '../processing/keys.js';
import { isCurrent, readManifest, type Manifest } from '../processing/manifest.js';
import { fromObjectMetadata } from '../processing/original-metadata.js';
import { removeOutputs } from '../processing/processor.js';
import type { ListedObject, ObjectInfo, ObjectStore } from '../storage/object-store.js';
import { visibleTo, type Owner } from './owner.js';

/** An image as storage holds it: its original, and the manifest written for these very bytes, if any. */
export interface ImageRecord {
  id: string;
  original: ObjectInfo;
  /** Absent until the processor writes one for this original (a manifest for older bytes does not count). */
  manifest?: Manifest;
}

export interface ImagesDeps {
  input: ObjectStore;
  output: ObjectStore;
  /** The settings images are rendered with now, to tell which need reprocessing after a change. */
  config: SettingsConfig;
  /** Starts processing an original again, where this runtime can (a queue locally, an S3 event on AWS). */
  enqueue?: (id: string) => void | Promise<void>;
}

export const notFound = (id: string) => new AppError(404, 'not_found', `There is no image ${id}.`);

/**
 * The image lifecycle below HTTP: what an image is made of in storage and the rules for finding,
 * listing, reprocessing and removing one. Routes parse and answer; this knows the keys.
 */
export function createImages({ input, output, config, enqueue }: ImagesDeps) {
  /** The original of an image the caller may see, or a 404 that does not say whether it exists. */
  async function findOriginal(id: string, owner: Owner | undefined): Promise<ObjectInfo> {
    const original = await input.head(originalKey(id));
    if (!original || !visibleTo(original, owner)) throw notFound(id);
    return original;
  }

  async function recordOf(id: string, original: ObjectInfo): Promise<ImageRecord> {
    const manifest = await readManifest(output, id);
    return { id, original, ...(manifest && manifest.sourceEtag === original.etag ? { manifest } : {}) };
  }

  return {
    findOriginal,

    async find(id: string, owner: Owner | undefined): Promise<ImageRecord> {
      return recordOf(id, await findOriginal(id, owner));
    },

    /** Newest first, by upload time then key; the cursor is the position of the last item served. */
    async list({ limit, cursor, owner }: { limit: number; cursor?: string | undefined; owner: Owner | undefined }): Promise<{ records: ImageRecord[]; nextCursor?: string }> {
      const after = cursor ? decodeCursor(cursor) : undefined;
      const all: ListedObject[] = [];
      for await (const object of input.list(ORIGINALS_PREFIX)) {
        const id = idFromOriginalKey(object.key);
        if (id && isValidId(id)) all.push(object);
      }
      all.sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime() || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
      const start = after ? all.findIndex((o) => isAfter(o, after)) : 0;
      const candidates = start < 0 ? [] : all.slice(start);

      const records: ImageRecord[] = [];
      let last: ListedObject | undefined;
      let index = 0;
      for (; index < candidates.length && records.length < limit; index++) {
        const object = candidates[index]!;
        const original = await input.head(object.key);
        last = object;
        if (!original || !visibleTo(original, owner)) continue;
        records.push(await recordOf(idFromOriginalKey(object.key)!, original));
      }
      const more = index < candidates.length;
      return { records, ...(more && last ? { nextCursor: encodeCursor({ t: last.lastModified.getTime(), k: last.key }) } : {}) };
    },

    /**
     * Processes an image again from its original, with today's settings; with `ifStale`, only when
     * it did not already end with them. True when processing was started.
     */
    async reprocess(id: string, owner: Owner | undefined, { ifStale = false } = {}): Promise<boolean> {
      const original = await findOriginal(id, owner);
      if (ifStale && isCurrent((await recordOf(id, original)).manifest, currentSettings(config, original))) return false;
      if (!enqueue) throw new AppError(501, 'not_supported', 'This deployment cannot start processing from the API.');
      // Without a final manifest for its bytes, the processor does the whole job again.
      await output.delete(manifestKey(id));
      await enqueue(id);
      return true;
    },

    /** Removes an image and everything made for it; false when the caller has no such image. */
    async remove(id: string, owner: Owner | undefined): Promise<boolean> {
      const original = await input.head(originalKey(id));
      if (!original) {
        // No image; outputs a crash left behind go quietly, whoever asks.
        await removeOutputs(output, id);
        return false;
      }
      if (!visibleTo(original, owner)) return false;
      await removeImage(input, output, id, original);
      return true;
    },
  };
}

export type Images = ReturnType<typeof createImages>;

/** The settings print an original would be rendered with now: the server's settings and its own watermark choice. */
export const currentSettings = (config: SettingsConfig, original: ObjectInfo) =>
  settingsPrint(config, fromObjectMetadata(original.metadata).watermark ?? hasMark(config.watermark));

/**
 * Removes one image: the original first (once it is gone, no event or restart can bring the image
 * back, and a processor still at work removes what it writes after: see processor.ts, finish),
 * then its outputs, and the dedup and idempotency records that answer for it: nothing outlives it.
 */
export async function removeImage(input: ObjectStore, output: ObjectStore, id: string, original: ObjectInfo): Promise<void> {
  const manifest = await readManifest(output, id);
  await input.delete(originalKey(id));
  await removeOutputs(output, id);
  if (manifest?.fingerprint) await forgetTwin(input, manifest.fingerprint);
  const record = fromObjectMetadata(original.metadata).idempotencyRecord;
  if (record) await input.delete(IDEMPOTENCY_PREFIX + record);
}

interface Position {
  t: number;
  k: string;
}

/** True when `object` comes after `position` in newest-first order. */
const isAfter = (object: ListedObject, position: Position) => {
  const t = object.lastModified.getTime();
  return t < position.t || (t === position.t && object.key < position.k);
};

const encodeCursor = (position: Position) => Buffer.from(JSON.stringify(position)).toString('base64url');

function decodeCursor(cursor: string): Position {
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Position;
    if (typeof position.t === 'number' && typeof position.k === 'string') return position;
  } catch {
    // fall through to the 400 below
  }
  throw new AppError(400, 'invalid_cursor', 'The cursor is not one this API gave out.');
}
