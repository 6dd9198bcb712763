import type { InputFormat, OutputFormat } from '../imaging/formats.js';
import { getBuffer, type ObjectStore } from '../storage/object-store.js';
import { manifestKey } from './keys.js';

export type ImageStatus = 'pending' | 'processing' | 'done' | 'failed';

export interface ManifestVariant {
  name: string;
  format: OutputFormat;
  width: number;
  height: number;
  bytes: number;
  key: string;
}

export interface OriginalInfo {
  format?: InputFormat;
  width?: number;
  height?: number;
  bytes: number;
  filename?: string;
}

/** `{id}/manifest.json` in the output bucket: the status record of one image; no database needed. */
export interface Manifest {
  id: string;
  status: ImageStatus;
  error?: { code: string; message: string };
  original: OriginalInfo;
  variants: ManifestVariant[];
  watermark: boolean;
  /** On done images: what to show while a preview loads. */
  placeholder?: { thumbhash: string; dominantColor: string };
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
  /** The ETag of the original this manifest describes; a new original means new work. */
  sourceEtag: string;
  /** The bytes-and-settings hash of a done image (see dedup.ts), so an identical upload can reuse its outputs. */
  fingerprint?: string;
}

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
  try {
    return JSON.parse(bytes.toString('utf8')) as Manifest;
  } catch {
    // A manifest is written atomically, so this is another tool's file: treat it as absent.
    return undefined;
  }
}

export async function writeManifest(output: ObjectStore, manifest: Manifest): Promise<void> {
  await output.put(manifestKey(manifest.id), Buffer.from(JSON.stringify(manifest, null, 2)), {
    contentType: 'application/json',
  });
}
