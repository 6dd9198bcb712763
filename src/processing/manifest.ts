import * as z from 'zod';
import { INPUT_FORMATS, OUTPUT_FORMATS } from '../formats/formats.js';
import { defersSync, getBuffer, putDerived, type ObjectStore } from '../storage/object-store.js';
import { manifestKey } from './keys.js';

export const STATUSES = ['pending', 'processing', 'done', 'failed'] as const;
export type ImageStatus = (typeof STATUSES)[number];

/** The manifest format this code writes. Manifests without a version were written before it had one: the same shape. */
export const MANIFEST_VERSION = 1;

const count = z.number().int().nonnegative();

const ManifestVariantSchema = z.object({
  name: z.string(),
  format: z.enum(OUTPUT_FORMATS),
  width: count,
  height: count,
  bytes: count,
  key: z.string(),
});

const OriginalInfoSchema = z.object({
  format: z.enum(INPUT_FORMATS).optional(),
  width: count.optional(),
  height: count.optional(),
  bytes: count,
  filename: z.string().optional(),
});

/** `{id}/manifest.json` in the output bucket: the status record of one image; no database needed. */
const ManifestSchema = z.object({
  version: z.literal(MANIFEST_VERSION).optional(),
  id: z.string(),
  status: z.enum(STATUSES),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  original: OriginalInfoSchema,
  variants: z.array(ManifestVariantSchema),
  watermark: z.boolean(),
  /** On done images: what to show while a preview loads. */
  placeholder: z.object({ thumbhash: z.string(), dominantColor: z.string() }).optional(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  completedAt: z.string().optional(),
  /** The ETag of the original this manifest describes; a new original means new work. */
  sourceEtag: z.string(),
  /** The bytes-and-settings hash of a done image (see dedup.ts), so an identical upload can reuse its outputs. */
  fingerprint: z.string().optional(),
  /** The settings it was rendered with (dedup.ts, settingsPrint): an image that ended with the current ones needs no reprocessing. */
  settings: z.string().optional(),
});

export type ManifestVariant = z.infer<typeof ManifestVariantSchema>;
export type OriginalInfo = z.infer<typeof OriginalInfoSchema>;
/** A manifest as the code handles it; the version is added on write and checked on read. */
export type Manifest = Omit<z.infer<typeof ManifestSchema>, 'version'>;

export const isFinal = (status: ImageStatus) => status === 'done' || status === 'failed';

/**
 * Failures of the run, not of the image: the process was killed for memory or time, or storage
 * failed. A new event for the same original (a dead-letter redrive) tries again; a failure the
 * image itself caused (corrupt, too large, ...) stays final.
 */
const RUN_FAILURES: ReadonlySet<string> = new Set(['out_of_memory', 'timeout', 'internal_error']);

/** Whether this manifest ends the story of its original: done, or failed for a reason another try cannot change. */
export const isSettled = (manifest: Manifest) => manifest.status === 'done' || (manifest.status === 'failed' && !RUN_FAILURES.has(manifest.error?.code ?? ''));

export async function readManifest(output: ObjectStore, id: string): Promise<Manifest | undefined> {
  const bytes = await getBuffer(output, manifestKey(id));
  if (!bytes) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  // A manifest is written atomically, so one that does not parse is another tool's file (or a newer
  // version's): treated as absent, so the image is processed again and the manifest rewritten.
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const { version: _version, ...manifest } = parsed.data;
  return manifest;
}

/**
 * Writes the manifest; a final one (done, failed) durably, where the store syncs. One that is not
 * (processing) is written again by its run, and a restart finds the image by its pending marker.
 */
export async function writeManifest(output: ObjectStore, manifest: Manifest, { deferSync = false }: { deferSync?: boolean } = {}): Promise<void> {
  const key = manifestKey(manifest.id);
  const body = Buffer.from(JSON.stringify({ version: MANIFEST_VERSION, ...manifest }, null, 2));
  const options = { contentType: 'application/json' };
  if (!isFinal(manifest.status)) return void (await putDerived(output, key, body, options));
  if (!defersSync(output)) return void (await output.put(key, body, options));
  // The file and its name synced, not its metadata file (a content type and an ETag, derived again if
  // lost): two syncs where a put makes four. Until they are done the pending marker stays, so a
  // manifest a power cut leaves half-written is read as none and the image is processed again.
  // `deferSync`: the caller syncs it later (syncManifest), before it removes the marker.
  await output.putUnsynced(key, body, options);
  if (!deferSync) await output.sync([key]);
}

/** Makes a manifest written with `deferSync` durable (a no-op where every write already is). */
export async function syncManifest(output: ObjectStore, id: string): Promise<void> {
  if (defersSync(output)) await output.sync([manifestKey(id)]);
}

/** Whether an image ended (done, or failed for a reason of its own) with the settings of `print`. */
export const isCurrent = (manifest: Manifest | undefined, print: string) => manifest !== undefined && isSettled(manifest) && manifest.settings === print;
