import type { Context } from 'hono';
import { FORMATS, OUTPUT_FORMATS, outputOf, type OutputFormat } from '../formats/formats.js';
import type { Manifest, ManifestVariant } from '../processing/manifest.js';
import type { Delivery, DownloadHeaders } from '../storage/delivery-port.js';
import { contentDisposition, variantFilename } from './download-names.js';

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

/** Gives the signed link of a variant, for the answer to one request. */
export type VariantLink = (manifest: Manifest, variant: ManifestVariant) => Promise<string>;

export function variantLinker(c: Context, delivery: Delivery, ttlSeconds: number): VariantLink {
  const origin = new URL(c.req.url).origin;
  return (manifest, variant) => {
    // With several formats of one variant, each link names its own; with one, the link stays plain.
    const several = manifest.variants.filter((v) => v.name === variant.name).length > 1;
    const path = `/v1/images/${manifest.id}/variants/${variant.name}`;
    const headers = variantHeaders(manifest, variant);
    return delivery.downloadLink({ origin, path, params: several ? { format: variant.format } : {}, bucket: 'output', key: variant.key, headers }, ttlSeconds);
  };
}
