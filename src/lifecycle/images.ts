import { AppError } from '../errors.js';
import { forgetTwin, settingsPrint, type SettingsConfig } from '../processing/dedup.js';
import { ALL_IMAGES, entryName, unindexImage, type IndexEntry } from '../processing/image-index.js';
import { IDEMPOTENCY_PREFIX, idFromOriginalKey, isValidId, manifestKey, originalKey, pendingKey } from '../processing/keys.js';
import { isCurrent, readManifest, type Manifest, type ManifestVariant } from '../processing/manifest.js';
import { fromObjectMetadata, isWatermarked, MAX_UPLOAD_TIME, uploadTime, withUploadTime } from '../processing/original-metadata.js';
import { removeOutputs } from '../processing/processor.js';
import type { ObjectInfo, ObjectStore, Retrigger, StoredObject } from '../storage/object-store.js';
import type { InputFormat } from '../formats/formats.js';
import { mergedEntries, scopesFor } from './index-pages.js';
import { visibleTo, type Owner } from './owner.js';

/** An image as storage holds it: its original, and the manifest written for these very bytes, if any. */
export interface FoundImage {
  id: string;
  original: ObjectInfo;
  /** Absent until the processor writes one for this original (a manifest for older bytes does not count). */
  manifest?: Manifest;
}

/** An image as a listing shows it: its manifest, or its original while it has none. */
export type ImageRecord = FoundImage | { id: string; manifest: Manifest; original?: never };

export interface ImagesDeps {
  input: ObjectStore;
  output: ObjectStore;
  /** The settings images are rendered with now, to tell which need reprocessing after a change. */
  config: SettingsConfig;
  /** Starts processing an original again, where this runtime can (a queue locally, an S3 event on AWS). */
  enqueue?: (id: string, original: ObjectInfo) => void | Promise<void>;
  /** False where S3 events drive the processor: see ProcessorDeps.marksPending. */
  marksPending?: boolean;
  /** False on AWS, where nothing reads the index of every image: see image-index.ts, indexKeys. */
  listsEveryImage?: boolean;
}

/** How long an index entry may stand without its original before a listing removes it (an upload cut short). */
const ENTRY_AHEAD_MS = 60 * 60 * 1000;

export const notFound = (id: string) => new AppError(404, 'not_found', `There is no image ${id}.`);

/**
 * The image lifecycle below HTTP: what an image is made of in storage and the rules for finding,
 * listing, reprocessing and removing one. Routes parse and answer; this knows the keys.
 */
export function createImages({ input, output, config, enqueue, marksPending = true, listsEveryImage = true }: ImagesDeps) {
  /** The original of an image the caller may see, or a 404 that does not say whether it exists. */
  async function findOriginal(id: string, owner: Owner | undefined): Promise<ObjectInfo> {
    const original = await input.head(originalKey(id));
    if (!original || !visibleTo(original, owner)) throw notFound(id);
    return original;
  }

  /** The manifest counts only when it was written for these very bytes. */
  const recordOf = (id: string, original: ObjectInfo, manifest: Manifest | undefined): FoundImage => ({
    id,
    original,
    ...(manifest && manifest.sourceEtag === original.etag ? { manifest } : {}),
  });

  const readRecord = async (id: string, original: ObjectInfo) => recordOf(id, original, await readManifest(output, id));

  /**
   * What an index entry stands for: a manifest from the same upload is the whole answer (one read);
   * without one, the original. An entry whose image is gone, or was listed anew at another time, is
   * removed.
   */
  async function recordAt(entry: IndexEntry, owner: Owner | undefined): Promise<ImageRecord | undefined> {
    const drop = () => Promise.all([...new Set([entry.key, ...(listsEveryImage ? [ALL_IMAGES + entry.name] : [])])].map((key) => input.delete(key)));
    // An entry an earlier release wrote for a name that is no id: never shown, so never walked past again.
    if (!isValidId(entry.id)) {
      await drop();
      return undefined;
    }
    const manifest = await readManifest(output, entry.id);
    if (manifest && Date.parse(manifest.createdAt) === entry.time) return { id: entry.id, manifest };
    const original = await input.head(originalKey(entry.id));
    // An upload lists its image just before storing it: a young entry may be ahead of its original.
    if (!original && Date.now() - entry.time < ENTRY_AHEAD_MS) return undefined;
    if (!original || uploadTime(original) !== entry.time) {
      await drop();
      return undefined;
    }
    return visibleTo(original, owner) ? recordOf(entry.id, original, manifest) : undefined;
  }

  return {
    findOriginal,

    /** The original under `id`, whoever's it is (a signed link was minted for its owner). */
    original: (id: string) => input.head(originalKey(id)),

    /** The format an original was judged to be: at upload, or by the processor for a direct upload. */
    async originalFormat(id: string, original: ObjectInfo): Promise<InputFormat | undefined> {
      return fromObjectMetadata(original.metadata).format ?? (await readManifest(output, id))?.original.format;
    },

    /** A done image's manifest and its variants named `name` (one per format), or none while it is not done. */
    async doneVariants(id: string, name: string): Promise<{ manifest?: Manifest; entries: ManifestVariant[] }> {
      const manifest = await readManifest(output, id);
      if (manifest?.status !== 'done') return { entries: [] };
      return { manifest, entries: manifest.variants.filter((variant) => variant.name === name) };
    },

    /** Opens a stored object to stream it: an original (`input`) or something made from one (`output`). */
    open: (bucket: 'input' | 'output', key: string): Promise<StoredObject | undefined> => (bucket === 'input' ? input : output).get(key),

    async find(id: string, owner: Owner | undefined): Promise<FoundImage> {
      return readRecord(id, await findOriginal(id, owner));
    },

    /**
     * An image found before, read again (a held status request): its manifest alone, one read; the
     * original is looked at again only while there is no manifest, so a delete still answers 404.
     */
    async findAgain(found: FoundImage, owner: Owner | undefined): Promise<FoundImage> {
      const manifest = await readManifest(output, found.id);
      return manifest ? recordOf(found.id, found.original, manifest) : readRecord(found.id, await findOriginal(found.id, owner));
    },

    /**
     * Newest first, by upload time then id, read from the index (index-pages.ts): one listing per
     * scope the caller sees and one read per image shown, whatever else the bucket holds. The cursor
     * is the position of the last image served.
     */
    async list({ limit, cursor, owner }: { limit: number; cursor?: string | undefined; owner: Owner | undefined }): Promise<{ records: ImageRecord[]; nextCursor?: string }> {
      const after = cursor ? decodeCursor(cursor) : undefined;
      const records: ImageRecord[] = [];
      let last: IndexEntry | undefined;
      let more = false;
      for await (const entry of mergedEntries(input, scopesFor(owner), after && entryName(after.t, after.id), limit + 1)) {
        if (records.length === limit) {
          more = true;
          break;
        }
        const record = await recordAt(entry, owner);
        // An id stored again (by another tool) is listed at its new time until its old entry is dropped: shown once.
        if (!record || records.some((shown) => shown.id === record.id)) continue;
        records.push(record);
        last = entry;
      }
      return { records, ...(more && last ? { nextCursor: encodeCursor({ t: last.time, k: originalKey(last.id) }) } : {}) };
    },

    /**
     * Processes an image again from its original, with today's settings; with `ifStale`, only when
     * it did not already end with them. True when processing was started.
     */
    async reprocess(id: string, owner: Owner | undefined, { ifStale = false } = {}): Promise<boolean> {
      const original = await findOriginal(id, owner);
      if (ifStale && isCurrent((await readRecord(id, original)).manifest, currentSettings(config, original))) return false;
      if (!enqueue) throw new AppError(501, 'not_supported', 'This deployment cannot start processing from the API.');
      // Without a final manifest for its bytes, the processor does the whole job again.
      // Marked first, so that a restart between the two steps still finds the image unfinished.
      if (marksPending) await input.put(pendingKey(id), Buffer.alloc(0));
      await output.delete(manifestKey(id));
      await enqueue(id, original);
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
      await removeImage(input, output, id, original, listsEveryImage);
      return true;
    },
  };
}

export type Images = ReturnType<typeof createImages>;

/**
 * How a reprocess reaches a processor elsewhere (S3 to Lambda): the original is announced again, its
 * upload time kept in its metadata so the image keeps its place in the index.
 */
export const announceAgain =
  (input: Retrigger) =>
  (id: string, original: ObjectInfo): Promise<void> =>
    input.retrigger(originalKey(id), withUploadTime(original));

/** The settings print an original would be rendered with now: the server's settings and its own watermark choice. */
export const currentSettings = (config: SettingsConfig, original: ObjectInfo) =>
  settingsPrint(config, isWatermarked(original, config.watermark));

/**
 * Removes one image: the original first (once it is gone, no event or restart can bring the image
 * back, and a processor still at work removes what it writes after: see processor.ts, finish),
 * then its outputs, and the dedup and idempotency records that answer for it: nothing outlives it.
 */
export async function removeImage(input: ObjectStore, output: ObjectStore, id: string, original: ObjectInfo, listsEveryImage = true): Promise<void> {
  await input.delete(originalKey(id));
  // Read after the original is gone: a processor that writes its final manifest later sees the
  // original missing and forgets its own dedup record; one that wrote it before is read here.
  const manifest = await readManifest(output, id);
  // Unlisted before the outputs go: a listing reads the manifest alone, so it must not find the entry after.
  await unindexImage(input, id, original, listsEveryImage);
  await input.delete(pendingKey(id));
  await removeOutputs(output, id);
  if (manifest?.fingerprint) await forgetTwin(input, manifest.fingerprint);
  const record = fromObjectMetadata(original.metadata).idempotencyRecord;
  if (record) await input.delete(IDEMPOTENCY_PREFIX + record);
}

/** A cursor: the upload time and original key of the last image served (the format before the index, kept). */
interface Position {
  t: number;
  k: string;
}

const encodeCursor = (position: Position) => Buffer.from(JSON.stringify(position)).toString('base64url');

function decodeCursor(cursor: string): { t: number; id: string } {
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Position;
    const id = typeof position.k === 'string' ? idFromOriginalKey(position.k) : undefined;
    if (Number.isSafeInteger(position.t) && position.t >= 0 && position.t <= MAX_UPLOAD_TIME && id) return { t: position.t, id };
  } catch {
    // fall through to the 400 below
  }
  throw new AppError(400, 'invalid_cursor', 'The cursor is not one this API gave out.');
}
