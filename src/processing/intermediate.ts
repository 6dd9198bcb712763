import type { VariantSpec } from '../config/variants.js';
import type { Intermediate } from '../imaging/pipeline/intermediate.js';
import { scaleNeeded } from '../imaging/pipeline/resize.js';
import type { RenderSource } from '../imaging/render-source.js';
import { keepsLocalFiles, putDerived, readWithin, type ObjectInfo, type ObjectStore } from '../storage/object-store.js';
import { intermediateKey } from './keys.js';

type Size = { width: number; height: number };

/** An ETag without its quotes: S3 metadata is sent as header values. */
const bare = (etag: string) => etag.replace(/"/g, '');

/**
 * Stores an image's intermediate, not synced (lost, renders come from the original again), with what
 * a render needs to use it: its size, the original's, and which upload of the original it was made from.
 */
export function writeIntermediate(output: ObjectStore, id: string, original: ObjectInfo, originalSize: Size, intermediate: Intermediate): Promise<ObjectInfo> {
  const metadata = {
    width: String(intermediate.width),
    height: String(intermediate.height),
    'original-width': String(originalSize.width),
    'original-height': String(originalSize.height),
    'original-etag': bare(original.etag),
  };
  return putDerived(output, intermediateKey(id), intermediate.data, { contentType: 'image/jpeg', metadata });
}

/** The largest intermediate read whole (a 16384-pixel square at quality 90 stays well under it). */
const MAX_INTERMEDIATE_BYTES = 256 * 1024 * 1024;

/**
 * What renders of `specs` can be made from instead of the original: its intermediate, when it was
 * made from this upload of the original and none of them needs more pixels than it has or is a smart
 * crop. A file on this machine is named, not read; elsewhere (S3) it is read in the one request that
 * also describes it.
 */
export async function intermediateFor(output: ObjectStore, id: string, original: ObjectInfo, specs: VariantSpec[]): Promise<{ source: RenderSource; originalSize: Size } | undefined> {
  const key = intermediateKey(id);
  const found = keepsLocalFiles(output)
    ? await output.head(key).then((info) => info && { info, source: { path: output.localPath(key) } })
    : await readWithin(output, key, MAX_INTERMEDIATE_BYTES).then((read) => read?.bytes && { info: read.info, source: read.bytes });
  if (!found) return undefined;
  const meta = found.info.metadata;
  const [width, height, originalWidth, originalHeight] = [meta.width, meta.height, meta['original-width'], meta['original-height']].map(Number);
  if (meta['original-etag'] !== bare(original.etag) || ![width, height, originalWidth, originalHeight].every((n) => Number.isInteger(n) && n! > 0)) return undefined;
  const originalSize = { width: originalWidth!, height: originalHeight! };
  // The size the render's decode step resizes to (decode.ts): never more than the intermediate has.
  // A smart crop goes where the pixels lead it, and other pixels may lead it elsewhere: from the original.
  const serves = specs.every((spec) => {
    if (spec.fit === 'attention' || spec.fit === 'entropy') return false;
    const scale = scaleNeeded(originalSize, spec);
    return Math.round(originalSize.width * scale) <= width! && Math.round(originalSize.height * scale) <= height!;
  });
  return serves ? { source: found.source, originalSize } : undefined;
}
