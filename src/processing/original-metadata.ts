import type { Config } from '../config/config.js';
import type { InputFormat } from '../formats/formats.js';
import { hasMark } from '../imaging/watermark.js';
import type { ObjectInfo } from '../storage/object-store.js';
import type { OriginalInfo } from './manifest.js';

/** What the upload learnt about an original, kept as its user metadata (S3: x-amz-meta-*). */
export interface OriginalMetadata {
  filename?: string;
  /** Unset: the server's default (on when WATERMARK_TEXT is set). */
  watermark?: boolean;
  format?: InputFormat;
  width?: number;
  height?: number;
  /** Who uploaded it (an API key's owner id); absent when auth was off or another tool wrote it. */
  owner?: string;
  /** The name of the Idempotency-Key record that answers for this upload, removed with the image. */
  idempotencyRecord?: string;
  /**
   * When it was uploaded (ms): the image's place in the index. Kept because a copy onto itself (a
   * reprocess on AWS) gives the object a new LastModified; absent, LastModified is the upload time.
   */
  uploadedAt?: number;
  /** The upload wrote its index entries before the original itself: the processor need not list it again. */
  indexed?: boolean;
  /** The upload wrote the pending marker too (where markers are kept): the first run need not. */
  marked?: boolean;
}

/** S3 metadata values must be ASCII, so the filename travels percent-encoded. */
export function toObjectMetadata(meta: OriginalMetadata): Record<string, string> {
  const out: Record<string, string> = {};
  if (meta.filename) out.filename = encodeURIComponent(meta.filename);
  if (meta.watermark !== undefined) out.watermark = String(meta.watermark);
  if (meta.format) out.format = meta.format;
  if (meta.width) out.width = String(meta.width);
  if (meta.height) out.height = String(meta.height);
  if (meta.owner) out.owner = meta.owner;
  if (meta.idempotencyRecord) out.idempotency = meta.idempotencyRecord;
  if (meta.uploadedAt !== undefined) out.uploaded = String(meta.uploadedAt);
  if (meta.indexed) out.indexed = 'true';
  if (meta.marked) out.marked = 'true';
  return out;
}

export function fromObjectMetadata(record: Record<string, string>): OriginalMetadata {
  const meta: OriginalMetadata = {};
  if (record.filename) {
    try {
      meta.filename = decodeURIComponent(record.filename);
    } catch {
      meta.filename = record.filename;
    }
  }
  if (record.watermark === 'true' || record.watermark === 'false') meta.watermark = record.watermark === 'true';
  if (record.format) meta.format = record.format as InputFormat;
  const width = Number(record.width);
  const height = Number(record.height);
  if (Number.isInteger(width) && width > 0) meta.width = width;
  if (Number.isInteger(height) && height > 0) meta.height = height;
  if (record.owner) meta.owner = record.owner;
  if (record.idempotency && /^[0-9a-f]{64}$/.test(record.idempotency)) meta.idempotencyRecord = record.idempotency;
  const uploaded = Number(record.uploaded);
  if (/^\d{1,13}$/.test(record.uploaded ?? '') && uploaded <= MAX_UPLOAD_TIME) meta.uploadedAt = uploaded;
  if (record.indexed === 'true') meta.indexed = true;
  if (record.marked === 'true') meta.marked = true;
  return meta;
}

/** The largest time the index's 13 digits hold (the year 2286). */
export const MAX_UPLOAD_TIME = 9_999_999_999_999;

/** When an original was uploaded: its own record of it, or else when the object was written. */
export const uploadTime = (original: Pick<ObjectInfo, 'lastModified' | 'metadata'>): number =>
  fromObjectMetadata(original.metadata).uploadedAt ?? Math.min(original.lastModified.getTime(), MAX_UPLOAD_TIME);

/** An original's metadata with its upload time written in, for a copy that must not move it in the index. */
export const withUploadTime = (original: Pick<ObjectInfo, 'lastModified' | 'metadata'>): Record<string, string> => ({
  ...original.metadata,
  uploaded: String(uploadTime(original)),
});

/**
 * What a manifest and the API say of an original: its size and the name it was uploaded as, with
 * its format and dimensions from `probed` (the processor's own reading) or else from the upload's.
 */
export function originalInfo(object: Pick<ObjectInfo, 'size' | 'metadata'>, probed?: Pick<OriginalInfo, 'format' | 'width' | 'height'>): OriginalInfo {
  const meta = fromObjectMetadata(object.metadata);
  const format = probed?.format ?? meta.format;
  const width = probed?.width ?? meta.width;
  const height = probed?.height ?? meta.height;
  return {
    bytes: object.size,
    ...(format ? { format } : {}),
    ...(width && height ? { width, height } : {}),
    ...(meta.filename ? { filename: meta.filename } : {}),
  };
}

/** Whether an original is marked: its uploader's choice (`?watermark=`), else whether the server has a mark at all. */
export const isWatermarked = (original: Pick<ObjectInfo, 'metadata'>, mark: Config['watermark']): boolean =>
  fromObjectMetadata(original.metadata).watermark ?? hasMark(mark);
