import { createHash } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import { getBuffer, putDerived, type ObjectStore } from '../storage/object-store.js';
import { DEDUP_PREFIX } from './keys.js';
import type { Config } from '../config/config.js';
import { hasMark } from '../imaging/watermark.js';


/**
 * What decides an image's outputs: its bytes and every setting that shapes a variant, and whose
 * they are. Two uploads with the same fingerprint would render the same files. The owner is part
 * of it, so a reused render never tells one key that another uploaded the same file (it would
 * finish faster).
 */
export async function fingerprint(source: Buffer, config: SettingsConfig, watermark: boolean, owner: string | undefined): Promise<string> {
  const settings = { owner: owner ?? null, ...renderSettings(config, watermark) };
  const hash = createHash('sha256');
  // A 50 MB original takes about 100 ms to hash: in slices, letting other work in between.
  for (let offset = 0; offset < source.length; offset += HASH_SLICE_BYTES) {
    if (offset > 0) await setImmediate();
    hash.update(source.subarray(offset, offset + HASH_SLICE_BYTES));
  }
  return hash.update(JSON.stringify(settings)).digest('hex');
}

/** About 5 ms of hashing at a time. */
const HASH_SLICE_BYTES = 2 * 1024 * 1024;

/**
 * The settings an image was rendered with, as a hash kept in its manifest: reprocessing after a
 * settings change skips the images that already carry the current one (and so can resume).
 */
export function settingsPrint(config: SettingsConfig, watermark: boolean): string {
  return createHash('sha256').update(JSON.stringify(renderSettings(config, watermark))).digest('hex').slice(0, 32);
}

export type SettingsConfig = Pick<Config, 'variants' | 'outputFormat' | 'outputFormats' | 'quality' | 'watermark' | 'maxAnimationFrames' | 'maxInputPixels'>;

/** Every setting that shapes a variant. */
function renderSettings(config: SettingsConfig, watermark: boolean) {
  return {
    variants: config.variants,
    outputFormat: config.outputFormat,
    outputFormats: config.outputFormats ?? null,
    quality: config.quality,
    // The logo by its hash: a new file under the same name is a new setting.
    watermark: watermark && hasMark(config.watermark) ? { ...config.watermark, image: config.watermark.image?.digest ?? null } : null,
    maxAnimationFrames: config.maxAnimationFrames,
    maxInputPixels: config.maxInputPixels,
  };
}

export async function findTwin(input: ObjectStore, print: string): Promise<string | undefined> {
  const record = await getBuffer(input, DEDUP_PREFIX + print);
  return record ? (JSON.parse(record.toString('utf8')) as { id: string }).id : undefined;
}

/** Unsynced where the store defers syncs: a record lost to a power cut only means a later twin renders anew. */
export async function rememberTwin(input: ObjectStore, print: string, id: string): Promise<void> {
  // No type to keep: nothing serves it, and on the fs store that spares it a metadata file.
  await putDerived(input, DEDUP_PREFIX + print, Buffer.from(JSON.stringify({ id })));
}

/** Removes the record of a fingerprint, with the image it named (a later identical upload renders anew). */
export async function forgetTwin(input: ObjectStore, print: string): Promise<void> {
  await input.delete(DEDUP_PREFIX + print);
}
