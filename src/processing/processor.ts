import type { Config } from '../config/config.js';
import { decodeFailure } from '../imaging/decode-failure.js';
import { FORMATS } from '../formats/formats.js';
import type { Intermediate } from '../imaging/pipeline/intermediate.js';
import type { RenderedVariant } from '../imaging/pipeline/render.js';
import { makePlaceholder } from '../imaging/placeholder.js';
import type { ImageInfo } from '../imaging/probe.js';
import { imagingSettings, renderImage, type ImagingConfig } from '../imaging/render-image.js';
import { getBuffer, putAllDurable, readWithin, type ListedObject, type ObjectInfo, type ObjectStore } from '../storage/object-store.js';
import { intermediateKey, manifestKey, originalKey, outputPrefix, pendingKey, rendersPrefix, variantKey } from './keys.js';
import { writeIntermediate } from './intermediate.js';
import { indexImage, unindexImage } from './image-index.js';
import { findTwin, fingerprint, forgetTwin, rememberTwin, settingsPrint } from './dedup.js';
import { UNBOUNDED, type Gate } from './gate.js';
import { isSettled, readManifest, syncManifest, writeManifest, type Manifest, type ManifestVariant } from './manifest.js';
import { markFailed as markFailedManifest } from './mark-failed.js';
import { fromObjectMetadata, isWatermarked, originalInfo, uploadTime } from './original-metadata.js';
import { hasMark } from '../imaging/watermark.js';
import { stageClock, type Stages } from './stage-clock.js';

export type ProcessingConfig = ImagingConfig & Pick<Config, 'maxUploadBytes'> & { onDemand: Pick<Config['onDemand'], 'intermediate'> };

export interface ProcessorDeps {
  input: ObjectStore;
  output: ObjectStore;
  config: ProcessingConfig;
  now?: () => Date;
  /**
   * Bounds the CPU-bound part (decode, resize, encode) across every image in flight, so a runner can
   * keep more images going than there are cores: their reads, writes and fsyncs then overlap
   * another image's rendering instead of leaving a core idle. By default renders are not bounded.
   */
  renderGate?: Gate;
  /**
   * Marks each image under way (`pending/{id}`) until it ends, so a local restart finds unfinished
   * work without reading every image. Off where S3 events drive the processor (Lambda): an attempt
   * that dies is retried from the event, then recorded by the failure handler, and nothing reads a
   * marker there; on S3 each costs a PUT and a DELETE.
   */
  marksPending?: boolean;
  /** False on AWS, where nothing reads the index of every image (see image-index.ts, indexKeys). */
  listsEveryImage?: boolean;
  /**
   * Writes a `processing` manifest before the render, so a reader in another process can tell work
   * under way from work waiting (the CLI's `reprocess --all`). Off on AWS: there it is a PUT per
   * image that only changes `pending` to `processing`, and Lambda starts an image within a second of
   * its upload, so an image without a manifest is `pending` until it ends (docs/ARCHITECTURE.md,
   * storage requests). Off in the local server, whose API asks its queue instead (AppDeps.isProcessing).
   */
  marksProcessing?: boolean;
  /**
   * Looks for an identical earlier upload (dedup.ts) and copies its outputs. Off on AWS, where it
   * does not pay: every image would cost a record's GET and PUT, and a copy's PUTs cost more than
   * the render they spare.
   */
  reusesTwins?: boolean;
}

export type ProcessOutcome =
  | { id: string; status: 'done'; durationMs: number; variants: number; originalBytes: number; outputBytes: number; manifest: Manifest; stages?: Stages }
  | { id: string; status: 'failed'; durationMs: number; error: { code: string; message: string }; manifest: Manifest }
  | { id: string; status: 'skipped'; reason: 'missing' | 'unchanged' | 'deleted' };

export interface ProcessOptions {
  /**
   * Render again an image that already ended (a reprocess after a change of settings). A `done`
   * image stays as it is until the new rendering is done: a failure is reported, never written over it.
   */
  again?: boolean;
  /**
   * Called once the final manifest is written and its original found still there: a reader may answer
   * from it now. The manifest is made durable after (its variants already are), and the run ends then.
   */
  written?: () => void;
}

export interface Processor {
  /** Renders every variant of one original and writes its manifest. Safe to call twice, or at once. */
  process(id: string, options?: ProcessOptions): Promise<ProcessOutcome>;
  /** Records a failure that happened outside the imaging work (a storage error, a crash in the runner). */
  markFailed(id: string, code: string, message: string): Promise<Manifest | undefined>;
}

/**
 * The processor: given the id of a new original, read it, render every variant, write them, then
 * the manifest. Imaging failures end as a failed manifest with a stable code; storage errors are
 * thrown, so the caller (a queue, or Lambda) can retry.
 */
export function createProcessor({ input, output, config, now = () => new Date(), renderGate = UNBOUNDED, marksPending = true, listsEveryImage = true, marksProcessing = true, reusesTwins = true }: ProcessorDeps): Processor {
  const mark = (id: string) => (marksPending ? input.put(pendingKey(id), Buffer.alloc(0)) : undefined);
  const unmark = async (id: string) => {
    if (marksPending) await input.delete(pendingKey(id));
  };
  async function process(id: string, { again = false, written }: ProcessOptions = {}): Promise<ProcessOutcome> {
    const started = now();
    const clock = stageClock();
    // The original and its bytes at once (one request on S3); a giant another tool wrote is not read.
    const opened = await readWithin(input, originalKey(id), config.maxUploadBytes);
    const original = opened?.info;
    clock.lap('read');
    if (!original) {
      // Gone, perhaps while an earlier attempt wrote outputs (it threw, and this is its retry):
      // nothing of it may stay.
      await removeOutputs(output, id);
      await unmark(id);
      return { id, status: 'skipped', reason: 'missing' };
    }
    // One listing of the image's outputs tells whether a manifest stands (a new image is not asked
    // for one: on S3 a GET that would 404) and what stood before this run, to remove what is stale.
    const before = await listOutputs(id);
    const previous = before.some((object) => object.key === manifestKey(id)) ? await readManifest(output, id) : undefined;
    const settled = previous && isSettled(previous) && previous.sourceEtag === original.etag;
    if (settled && !again) return { id, status: 'skipped', reason: 'unchanged' };
    const kept = settled && previous.status === 'done' ? previous : undefined;

    const meta = fromObjectMetadata(original.metadata);
    const watermark = isWatermarked(original, config.watermark);
    const base: Manifest = {
      id,
      status: 'processing',
      original: originalInfo(original),
      variants: [],
      watermark,
      createdAt: new Date(uploadTime(original)).toISOString(),
      startedAt: started.toISOString(),
      sourceEtag: original.etag,
      settings: settingsPrint(config, watermark),
    };
    // Listed, unless its upload did that (an original another tool wrote, or a direct upload, has no
    // entry yet), and marked as under way, so that a restart finds it without reading every image
    // (on a first run, the upload's marker stands until the run ends).
    await Promise.all([meta.indexed ? undefined : indexImage(input, id, original, listsEveryImage), !previous && meta.marked ? undefined : mark(id)]);
    if (!kept && marksProcessing) await writeManifest(output, base);
    clock.lap('start');

    /** A failure ends the image as failed, unless it is a done image rendered again: that one stays done. */
    const fail = async (error: { code: string; message: string }): Promise<ProcessOutcome> => {
      const manifest: Manifest = { ...base, status: 'failed', error, completedAt: now().toISOString() };
      if (kept) await unmark(id);
      else if (!(await finish(manifest, original, written))) return { id, status: 'skipped', reason: 'deleted' };
      return { id, status: 'failed', durationMs: now().getTime() - started.getTime(), error, manifest };
    };

    // Direct uploads to S3 and other tools' files never passed the upload limit; never read a giant into memory.
    if (original.size > config.maxUploadBytes) {
      return fail({ code: 'too_large', message: `The original is ${original.size} bytes, over the limit of ${config.maxUploadBytes}.` });
    }

    const source = opened.bytes;
    if (!source) {
      // Deleted after it was looked at: what this run wrote must not outlive it.
      await forgetDeleted(id, original);
      return { id, status: 'skipped', reason: 'deleted' };
    }

    const print = reusesTwins ? await fingerprint(source, config, base.watermark, meta.owner) : undefined;
    const reused = print ? await reuseTwin(id, print, base, original) : undefined;
    clock.lap('dedup');
    if (reused) {
      if (!(await finish(reused, original, written))) return { id, status: 'skipped', reason: 'deleted' };
      return done(reused, original.size, started);
    }

    let info: ImageInfo;
    let rendered: RenderedVariant[];
    let intermediate: Intermediate | undefined;
    try {
      // The wait for a render slot is a stage of its own: a busy server shows there, not in the render.
      const slot: Gate = { run: (work) => renderGate.run(() => (clock.lap('renderSlotWait'), work())) };
      ({ info, variants: rendered, intermediate } = await renderImage(source, { ...imagingSettings(config, base.watermark), keepIntermediate: config.onDemand.intermediate }, slot));
      clock.lap('render');
    } catch (error) {
      const { code, message } = decodeFailure(error);
      return fail({ code, message });
    }

    // Written side by side, each synced as it is written and their folder once after, before the
    // manifest can name them: a done manifest never names a missing or partial variant.
    // The intermediate is written beside them and never synced: without it, renders use the original.
    const objects = rendered.map((variant) => ({ key: variantKey(id, variant.name, variant.format), body: variant.data, options: { contentType: FORMATS[variant.format].mime } }));
    await Promise.all([putAllDurable(output, objects), intermediate && writeIntermediate(output, id, original, info, intermediate)]);
    const variants: ManifestVariant[] = rendered.map((variant, i) => ({ name: variant.name, format: variant.format, width: variant.width, height: variant.height, bytes: variant.data.length, key: objects[i]!.key }));
    // Outputs of an earlier run go, even on a first one: a reprocess clears only the manifest, so its
    // variants may stand without one (removing them there would race a run still writing its own).
    await removeStaleOutputs(id, before, new Set([...variants.map((v) => v.key), ...(intermediate ? [intermediateKey(id)] : [])]), started);
    clock.lap('writeOutputs');
    // From the smallest rendering: a few thousand pixels to decode, not the original's millions.
    const smallest = rendered.reduce((a, b) => (a.width * a.height <= b.width * b.height ? a : b));
    const placeholder = await makePlaceholder(smallest.data);
    clock.lap('placeholder');

    const manifest: Manifest = {
      ...base,
      status: 'done',
      original: originalInfo(original, info),
      variants,
      placeholder,
      ...(print ? { fingerprint: print } : {}),
      completedAt: now().toISOString(),
    };
    // Remembered before the manifest is final, so that a delete racing it removes the record too.
    if (print) await rememberTwin(input, print, id);
    if (!(await finish(manifest, original, written))) return { id, status: 'skipped', reason: 'deleted' };
    clock.lap('manifest');
    return done(manifest, original.size, started, clock.stages);
  }

  function done(manifest: Manifest, originalBytes: number, started: Date, stages?: Stages): ProcessOutcome {
    return {
      ...(stages ? { stages } : {}),
      id: manifest.id,
      status: 'done',
      durationMs: now().getTime() - started.getTime(),
      variants: manifest.variants.length,
      originalBytes,
      outputBytes: manifest.variants.reduce((sum, variant) => sum + variant.bytes, 0),
      manifest,
    };
  }

  /**
   * Identical bytes with identical settings: copy the outputs an earlier image already has instead of
   * rendering them again. Copies, not shared references, so deleting either image leaves the other whole.
   */
  async function reuseTwin(id: string, print: string, base: Manifest, original: ObjectInfo): Promise<Manifest | undefined> {
    const twinId = await findTwin(input, print);
    if (!twinId || twinId === id) return undefined;
    const twin = await readManifest(output, twinId);
    if (twin?.status !== 'done' || twin.fingerprint !== print) return undefined;
    const objects: Array<{ key: string; body: Buffer; options: { contentType: string } }> = [];
    for (const variant of twin.variants) {
      const body = await getBuffer(output, variant.key);
      if (!body) return undefined;
      objects.push({ key: variantKey(id, variant.name, variant.format), body, options: { contentType: FORMATS[variant.format].mime } });
    }
    await putAllDurable(output, objects);
    const variants: ManifestVariant[] = twin.variants.map((variant, i) => ({ ...variant, key: objects[i]!.key }));
    return {
      ...base,
      status: 'done',
      original: originalInfo(original, twin.original),
      variants,
      ...(twin.placeholder ? { placeholder: twin.placeholder } : {}),
      fingerprint: print,
      completedAt: now().toISOString(),
    };
  }

  /**
   * Writes the final manifest, then looks for the original: if it was deleted meanwhile, whatever
   * this run wrote goes too. Written first and checked after, so a delete at any moment either sees
   * these writes and removes them, or is seen here. Readers are told (`written`) before the manifest
   * is synced: its variants are durable already, and the marker stays until it is too.
   */
  async function finish(manifest: Manifest, original: ObjectInfo, written?: () => void): Promise<boolean> {
    await writeManifest(output, manifest, { deferSync: true });
    if (await input.head(originalKey(manifest.id))) {
      written?.();
      await syncManifest(output, manifest.id);
      await unmark(manifest.id);
      return true;
    }
    await forgetDeleted(manifest.id, original);
    if (manifest.fingerprint) await forgetTwin(input, manifest.fingerprint);
    return false;
  }

  /** An original deleted while this run worked: its outputs, index entries and marker go too. */
  async function forgetDeleted(id: string, original: ObjectInfo) {
    await removeOutputs(output, id);
    await unindexImage(input, id, original, listsEveryImage);
    await unmark(id);
  }

  async function listOutputs(id: string): Promise<ListedObject[]> {
    const listed: ListedObject[] = [];
    for await (const object of output.list(outputPrefix(id))) listed.push(object);
    return listed;
  }

  /**
   * Outputs that stood before this run (`before`) and that it did not write: variants no longer
   * configured, and on-demand renders made before it started (with settings it may have changed).
   * Whatever appeared while it ran (a render) is current: kept.
   */
  async function removeStaleOutputs(id: string, before: ListedObject[], keep: Set<string>, started: Date) {
    // Stores that keep whole seconds (S3) must not make a render of this very second look older.
    const startedToTheSecond = Math.floor(started.getTime() / 1000) * 1000;
    for (const object of before) {
      const current = keep.has(object.key) || object.key === manifestKey(id) || (object.key.startsWith(rendersPrefix(id)) && object.lastModified.getTime() >= startedToTheSecond);
      if (!current) await output.delete(object.key);
    }
  }

  async function markFailed(id: string, code: string, message: string) {
    return markFailedManifest({ input, output, watermarkByDefault: hasMark(config.watermark), now }, id, { code, message });
  }

  return { process, markFailed };
}

/** Removes every output of an image, the manifest last so a reader never sees a manifest without files. */
export async function removeOutputs(output: ObjectStore, id: string): Promise<void> {
  for await (const object of output.list(outputPrefix(id))) {
    if (object.key !== manifestKey(id)) await output.delete(object.key);
  }
  await output.delete(manifestKey(id));
}
