import type { Context } from 'hono';
import { FORMATS, OUTPUT_FORMATS, outputOf, type InputFormat, type OutputFormat } from '../formats/formats.js';
import type { Manifest, ManifestVariant } from '../processing/manifest.js';
import type { Delivery, DownloadHeaders } from '../storage/delivery-port.js';
import { contentDisposition, originalFilename, variantFilename } from './download-names.js';
import { originalKey } from '../processing/keys.js';

export const DOWNLOAD_CACHE_CONTROL = 'private, max-age=31536000, immutable';

/** The headers a variant download carries, wherever it is served from. */
export function variantHeaders(manifest: Pick<Manifest, 'id' | 'original'>, variant: Pick<ManifestVariant, 'name' | 'format'>): DownloadHeaders {
  const { extension, mime } = FORMATS[variant.format];
  const filename = variantFilename(manifest.original.filename, manifest.id, variant.name, extension);
  return { contentType: mime, contentDisposition: contentDisposition('inline', filename), cacheControl: DOWNLOAD_CACHE_CONTROL };
}

/**
 * Picks the format of a variant to serve: the one asked for with `?format=`, else the most
 * preferred one the client takes (a negotiated format only when `Accept` names it).
 */
export function chooseFormat<T extends { format: OutputFormat }>(entries: T[], accept: string | undefined, asked?: OutputFormat): T | undefined {
  if (asked) return entries.find((entry) => entry.format === asked);
  const accepts = (format: OutputFormat) => !outputOf(format).negotiated || (accept ?? '').includes(FORMATS[format].mime);
  for (const format of OUTPUT_FORMATS) {
    const entry = entries.find((e) => e.format === format);
    if (entry && accepts(format)) return entry;
  }
  return entries[0];
}

/**
 * The headers an original downloads with: the format its bytes are (judged at upload, or by the
 * processor for a direct upload), never what the uploader named or declared it.
 */
export function originalHeaders(id: string, filename: string | undefined, format: InputFormat | undefined): DownloadHeaders {
  return {
    contentType: format ? FORMATS[format].mime : 'application/octet-stream',
    contentDisposition: contentDisposition('attachment', originalFilename(filename, id, format ? FORMATS[format].extension : undefined)),
    cacheControl: DOWNLOAD_CACHE_CONTROL,
  };
}

/** Signed links of one image's downloads, for the answer to one request: they work without the API key. */
export interface ImageLinks {
  variant(manifest: Manifest, variant: ManifestVariant): Promise<string>;
  original(id: string, original: { filename?: string; format?: InputFormat }): Promise<string>;
}

export function imageLinker(c: Context, delivery: Delivery, ttlSeconds: number): ImageLinks {
  const origin = new URL(c.req.url).origin;
  return {
    variant(manifest, variant) {
      // With several formats of one variant, each link names its own; with one, the link stays plain.
      const several = manifest.variants.filter((v) => v.name === variant.name).length > 1;
      const path = `/v1/images/${manifest.id}/variants/${variant.name}`;
      const headers = variantHeaders(manifest, variant);
      return delivery.downloadLink({ origin, path, params: several ? { format: variant.format } : {}, bucket: 'output', key: variant.key, headers }, ttlSeconds);
    },
    original(id, { filename, format }) {
      const headers = originalHeaders(id, filename, format);
      return delivery.downloadLink({ origin, path: `/v1/images/${id}/original`, params: {}, bucket: 'input', key: originalKey(id), headers }, ttlSeconds);
    },
  };
}
