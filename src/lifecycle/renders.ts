import type { Config } from '../config/config.js';
import { FITS, MAX_SIDE, type Fit } from '../config/variants.js';
import { AppError, isAppError } from '../errors.js';
import { FORMATS, OUTPUT_FORMATS, type OutputFormat } from '../formats/formats.js';
import { resizedSize } from '../imaging/pipeline/resize.js';
import { imagingSettings, renderImage, type ImagingConfig, type ImagingSettings, type RenderedImage } from '../imaging/render-image.js';
import { originalKey, renderKey, rendersPrefix } from '../processing/keys.js';
import { intermediateFor } from '../processing/intermediate.js';
import { createSharedGate } from '../processing/shared-gate.js';
import { createTokenBuckets } from '../processing/token-buckets.js';
import { fromObjectMetadata, isWatermarked, originalInfo } from '../processing/original-metadata.js';
import { getBuffer, keepsLocalFiles, putDerived, type ObjectInfo, type ObjectStore } from '../storage/object-store.js';
import type { RenderHost } from '../imaging/render-host.js';
import { sourceBytes } from '../imaging/render-source.js';
import { notFound } from './images.js';

/** One on-demand size of an image. */
export interface RenderSpec {
  width: number;
  height: number;
  fit: Fit;
  format: OutputFormat;
}


/** The name a render is stored and linked under: every parameter in it, so the signature covers them all. */
export const renderName = ({ width, height, fit, format }: RenderSpec) => `w${width}-h${height}-${fit}.${FORMATS[format].extension}`;

const NAME = new RegExp(`^w(\\d{1,5})-h(\\d{1,5})-(${FITS.join('|')})\\.(${OUTPUT_FORMATS.map((f) => FORMATS[f].extension).join('|')})$`);

export function parseRenderName(name: string): RenderSpec | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  const format = OUTPUT_FORMATS.find((f) => FORMATS[f].extension === match[4])!;
  const spec = { width: Number(match[1]), height: Number(match[2]), fit: match[3] as Fit, format };
  return spec.width >= 1 && spec.height >= 1 && spec.width <= MAX_SIDE && spec.height <= MAX_SIDE ? spec : undefined;
}

export type RenderConfig = ImagingConfig & Pick<Config, 'onDemand' | 'signedUrlTtlSeconds'>;

/** A render's format when the link names none: OUTPUT_FORMAT, WebP for auto. */
const defaultFormat = (config: RenderConfig): OutputFormat => (config.outputFormat === 'auto' ? 'webp' : config.outputFormat);

/** The formats a render may take where ONDEMAND_WIDTHS pins the sizes: those the server makes. */
const serverFormats = (config: RenderConfig): OutputFormat[] => config.outputFormats ?? [defaultFormat(config)];

/**
 * With ONDEMAND_WIDTHS, a render is one of those widths, as tall as the width makes it, in one of
 * the server's formats: the list is every size there can be, not a filter on one parameter among four.
 */
function refuseOutsideWidths(config: RenderConfig, spec: RenderSpec): void {
  const { widths } = config.onDemand;
  if (!widths) return;
  if (!widths.includes(spec.width)) throw new AppError(422, 'width_not_allowed', `Width ${spec.width} is not one this server renders (${widths.join(', ')}).`);
  if (spec.height !== MAX_SIDE || spec.fit !== 'inside') {
    throw new AppError(422, 'size_not_allowed', 'This server renders only the widths of ONDEMAND_WIDTHS, as tall as each makes the image: no height or fit.');
  }
  if (!serverFormats(config).includes(spec.format)) {
    throw new AppError(422, 'format_not_allowed', `This server renders only ${serverFormats(config).join(', ')}.`);
  }
}

/**
 * What a request for a size resolves to, or a 422 saying why it is refused: outside ONDEMAND_WIDTHS,
 * or more pixels than ONDEMAND_MAX_PIXELS (counted as the render will have them).
 */
export function resolveRender(config: RenderConfig, original: ObjectInfo, ask: { width: number; height?: number | undefined; fit?: Fit | undefined; format?: OutputFormat | undefined }): RenderSpec {
  const { maxPixels } = config.onDemand;
  const fit = ask.fit ?? 'inside';
  const format = ask.format ?? defaultFormat(config);
  const spec = { width: ask.width, height: ask.height ?? MAX_SIDE, fit, format };
  refuseOutsideWidths(config, spec);
  const { width, height } = originalInfo(original);
  const size = resizedSize(width && height ? { width, height } : { width: spec.width, height: spec.width }, spec);
  if (size.width * size.height > maxPixels) {
    throw new AppError(422, 'too_many_pixels', `${size.width}x${size.height} is more than the ${maxPixels} pixels a render may have (ONDEMAND_MAX_PIXELS).`);
  }
  return spec;
}

/** A render, stored; `data` when this request made it (no need to read it back). */
export interface StoredRender {
  info: ObjectInfo;
  data?: Buffer;
}

/** A render in this process (Lambda's, whose own timeout ends it). */
const renderHere: RenderHost['render'] = async (source, settings) => renderImage(await sourceBytes(source), settings);

/** A render waiting for its turn; `made` settles when some request's slot has made it. */
interface WaitingRender {
  spec: RenderSpec;
  taken: boolean;
  made: Promise<Buffer>;
  settle(result: Buffer | Error): void;
}

function waitingRender(spec: RenderSpec): WaitingRender {
  let settle!: (result: Buffer | Error) => void;
  const made = new Promise<Buffer>((resolve, reject) => (settle = (result) => (Buffer.isBuffer(result) ? resolve(result) : reject(result))));
  // Settled only for renders a slot took; the rest are never awaited alone.
  made.catch(() => undefined);
  return { spec, taken: false, made, settle };
}

/** Failed renders remembered at once; past this, the oldest is forgotten. */
const REMEMBERED_FAILURES = 10_000;

/**
 * On-demand renders, made so that no request can turn them against the service: their own slots
 * (uploads never wait behind them), a bounded queue and a share per image owner (refused at once
 * past them), the original read only once a slot is held, one render per link however many ask at
 * once, a failure remembered so that asking again costs nothing, a cap on how many renders (and
 * bytes) one image may have stored, and on how many new ones one owner's images get an hour.
 * `render` is where the work runs: a render host whose processes are ended at the deadline
 * (locally), or this process (on Lambda, whose own timeout ends it).
 */
export function createRenders(deps: { input: ObjectStore; output: ObjectStore; config: RenderConfig; now?: () => number; render?: RenderHost['render']; borrowSlot?: () => (() => void) | undefined }) {
  const { input, output, config, now = Date.now, render = renderHere, borrowSlot } = deps;
  const gate = createSharedGate({ slots: config.onDemand.concurrency, maxWaiting: config.onDemand.queueDepth, perOwner: config.onDemand.perOwner, ...(borrowSlot ? { borrow: borrowSlot } : {}) }, 'renders');
  const made = createTokenBuckets(config.onDemand.perOwnerPerHour, 60 * 60 * 1000, now);
  const running = new Map<string, Promise<StoredRender>>();
  const failures = new Map<string, { error: AppError; until: number }>();

  function remember(key: string, error: AppError) {
    failures.delete(key);
    failures.set(key, { error, until: now() + config.signedUrlTtlSeconds * 1000 });
    if (failures.size > REMEMBERED_FAILURES) failures.delete(failures.keys().next().value!);
  }

  async function refuseOverCap(id: string) {
    let count = 0;
    let bytes = 0;
    for await (const object of output.list(rendersPrefix(id))) {
      count++;
      bytes += object.size;
    }
    const { maxRendersPerImage, maxBytesPerImage } = config.onDemand;
    if (count >= maxRendersPerImage || bytes >= maxBytesPerImage) {
      throw new AppError(422, 'too_many_renders', `This image has ${count} on-demand sizes (${bytes} bytes) stored, the most it may (ONDEMAND_MAX_RENDERS_PER_IMAGE, ONDEMAND_MAX_BYTES_PER_IMAGE); use one of the sizes it has.`);
    }
  }

  /**
   * Renders from the image's intermediate (ONDEMAND_INTERMEDIATE) where it serves every size asked
   * for (several times less to decode than the original), else from the original. Read only once a
   * slot is held: a request waiting for one holds no image in memory; a file on this machine is read
   * by the render itself.
   */
  async function renderFromSmallest(id: string, original: ObjectInfo, settings: ImagingSettings): Promise<RenderedImage> {
    // Looked for only where the processor keeps them: elsewhere it would cost a read (on S3, a GET) per render.
    const smaller = config.onDemand.intermediate ? await intermediateFor(output, id, original, settings.variants) : undefined;
    if (smaller) {
      try {
        return await render(smaller.source, { ...settings, originalSize: smaller.originalSize });
      } catch {
        // Never synced, so a power cut may have left it damaged: the original decides.
      }
    }
    const source = keepsLocalFiles(input) ? { path: input.localPath(originalKey(id)) } : await getBuffer(input, originalKey(id));
    if (!source) throw notFound(id);
    return render(source, settings);
  }

  /**
   * Renders of one upload of an image waiting for a slot, by image: the first to get a slot makes
   * every one of them from one decode (as the processor makes its variants); the others find theirs
   * made and answer at once.
   */
  const waitingByImage = new Map<string, WaitingRender[]>();

  async function make(id: string, spec: RenderSpec, key: string, original: ObjectInfo): Promise<StoredRender> {
    await refuseOverCap(id);
    const meta = fromObjectMetadata(original.metadata);
    const owner = meta.owner ?? 'shared';
    const watermark = isWatermarked(original, config.watermark);
    const image = `${id}\n${original.etag}`;
    const mine = waitingRender(spec);
    waitingByImage.set(image, [...(waitingByImage.get(image) ?? []), mine]);
    /** Keeps waiting only the renders of this image no slot has taken. */
    const prune = () => {
      const left = (waitingByImage.get(image) ?? []).filter((entry) => !entry.taken && entry !== mine);
      if (left.length > 0) waitingByImage.set(image, left);
      else waitingByImage.delete(image);
    };
    const turn = gate.run(owner, async () => {
      if (mine.taken) return mine.made;
      // New renders, stored for good, are what an owner spends: at most so many an hour across its images.
      const wait = made.take(owner);
      if (wait !== undefined) {
        throw new AppError(429, 'too_many_renders', `The images of this owner got ${config.onDemand.perOwnerPerHour} new renders in the last hour, the most they may (ONDEMAND_RENDERS_PER_OWNER_PER_HOUR).`, { 'retry-after': String(wait) });
      }
      mine.taken = true;
      // The other sizes of this image waiting now come along, each as one of the owner's new renders.
      const batch = [mine];
      for (const other of waitingByImage.get(image) ?? []) {
        if (other.taken || made.take(owner) !== undefined) continue;
        other.taken = true;
        batch.push(other);
      }
      prune();
      try {
        const variants = batch.map((entry, i) => ({ name: String(i), width: entry.spec.width, height: entry.spec.height, fit: entry.spec.fit, formats: [entry.spec.format] }));
        const rendered = await renderFromSmallest(id, original, { ...imagingSettings(config, watermark), variants });
        batch.forEach((entry, i) => entry.settle(rendered.variants.find((variant) => variant.name === String(i))!.data));
      } catch (error) {
        batch.forEach((entry) => entry.settle(error as Error));
      }
      return mine.made;
    });
    turn.catch(() => undefined);
    // Made in another request's slot: answered then, not when this one's turn comes.
    const data = await Promise.race([turn, mine.made]).finally(prune);
    // Made again on request if a power cut takes it: not synced (storage/object-store.ts putDerived).
    const info = await putDerived(output, key, data, { contentType: FORMATS[spec.format].mime });
    // Deleted meanwhile: the render must not outlive its image (written first, checked after).
    if (!(await input.head(originalKey(id)))) {
      await output.delete(key);
      throw notFound(id);
    }
    return { info, data };
  }

  return {
    /** Renders waiting for a slot. */
    get waiting() {
      return gate.waiting;
    },

    /** A render of an image, from storage when it was made before, else made now (see above). */
    async stored(id: string, spec: RenderSpec): Promise<StoredRender> {
      refuseOutsideWidths(config, spec);
      const key = renderKey(id, renderName(spec));
      const original = await input.head(originalKey(id));
      if (!original) throw notFound(id);
      const stored = await output.head(key);
      if (stored) return { info: stored };
      // Per link and per upload of the original: a reprocess or new bytes deserve a new try.
      const attempt = `${key}\n${original.etag}`;
      const failed = failures.get(attempt);
      if (failed && failed.until > now()) throw failed.error;
      let render = running.get(attempt);
      if (!render) {
        render = make(id, spec, key, original)
          .catch((error: unknown) => {
            // What this link will always answer (the original cannot be rendered so) costs once.
            if (isAppError(error) && error.status === 422 && error.code !== 'too_many_renders') remember(attempt, error);
            throw error;
          })
          .finally(() => running.delete(attempt));
        running.set(attempt, render);
      }
      return render;
    },
  };
}
