import { createReadStream } from 'node:fs';
import type { Config } from '../config/config.js';
import { FORMATS } from '../formats/formats.js';
import { probeImage, type ImageInfo } from '../imaging/probe.js';
import { indexImage, unindexImage } from '../processing/image-index.js';
import { originalKey, pendingKey } from '../processing/keys.js';
import { toObjectMetadata } from '../processing/original-metadata.js';
import type { ObjectStore } from '../storage/object-store.js';
import { cleanFilename } from './clean-filename.js';

/** An upload already on this disk (spooled), judged before it becomes an original. */
export interface ReceivedFile {
  path: string;
  /** The client's name for the file, when multipart gave one. */
  filename?: string;
  discard(): Promise<void>;
}

export interface IngestRequest {
  id: string;
  file: ReceivedFile;
  filename?: string;
  watermark?: boolean;
  owner?: string;
  /** The Idempotency-Key record answering for this upload (see idempotency.ts). */
  idempotencyRecord?: string;
  /** Write the pending marker with the index entries (the local runtime; see ProcessorDeps.marksPending). */
  marksPending?: boolean;
  /** Also list it in the index of every image (locally; see image-index.ts, indexKeys). */
  listsEveryImage?: boolean;
}

/**
 * The one way an upload becomes an original, shared by `POST /v1/images` and the direct-upload PUT:
 * judge the spooled bytes by their header (415/422), list them in the index, then store them with
 * what was learnt. Storing the original is what triggers processing.
 */
export async function ingestOriginal(
  input: ObjectStore,
  limits: Pick<Config, 'maxInputPixels' | 'allowSvg'>,
  { id, file, filename, watermark, owner, idempotencyRecord, marksPending = true, listsEveryImage = true }: IngestRequest,
): Promise<ImageInfo> {
  try {
    const info = await probeImage(file.path, limits);
    const name = cleanFilename(filename ?? file.filename);
    const metadata = toObjectMetadata({
      ...(name ? { filename: name } : {}),
      ...(watermark !== undefined ? { watermark } : {}),
      ...(owner ? { owner } : {}),
      ...(idempotencyRecord ? { idempotencyRecord } : {}),
      format: info.format,
      width: info.width,
      height: info.height,
      uploadedAt: Date.now(),
      indexed: true,
      ...(marksPending ? { marked: true } : {}),
    });
    const key = originalKey(id);
    // Listed before it is stored, and said so in its metadata, so the processor need not list it
    // again (two writes fewer per image on S3). An entry whose original never comes is passed over,
    // then removed by a listing once it is old (lifecycle/images.ts). The pending marker, where kept,
    // is written with them: a restart finds the image even before its processing starts.
    const listed = { lastModified: new Date(), metadata };
    const options = { contentType: FORMATS[info.format].mime, metadata };
    let written: Promise<unknown> | undefined;
    try {
      written = Promise.all([indexImage(input, id, listed, listsEveryImage), marksPending ? input.put(pendingKey(id), Buffer.alloc(0)) : undefined]);
      if (input.putFile) {
        // Written while the file is synced; it takes its name once all of it is durable.
        written.catch(() => undefined);
        await input.putFile(key, file.path, options, written);
      } else {
        await written;
        await input.put(key, createReadStream(file.path), options);
      }
    } catch (error) {
      // The upload fails as a whole: nothing it wrote stays behind (what came first, once written).
      await written?.catch(() => undefined);
      await input.delete(key);
      await Promise.all([unindexImage(input, id, listed, listsEveryImage), marksPending ? input.delete(pendingKey(id)) : undefined]);
      throw error;
    }
    return info;
  } finally {
    await file.discard();
  }
}
