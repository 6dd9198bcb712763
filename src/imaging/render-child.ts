// A render process of the render host (render-host.ts): renders what it is sent, one job at a time,
// and answers; the host ends it at the deadline, which stops the work wherever it is.
import { isAppError } from '../errors.js';
import { sourceBytes } from './render-source.js';
import { renderImage, type ImagingSettings } from './render-image.js';
import { tuneSharp } from './tuning.js';

/** Structured clone hands Buffers over as plain Uint8Arrays; the imaging code wants Buffers back. */
function asBuffers<T>(value: T): T {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength) as T;
  if (Array.isArray(value)) return value.map(asBuffers) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, asBuffers(inner)])) as T;
  return value;
}

tuneSharp();
// The server gone (stopped, or killed), nothing here is wanted any more.
process.on('disconnect', () => process.exit(0));
// Ready once sharp and the imaging code are loaded: the host starts a job's deadline from here.
process.send!({ ready: true });
process.on('message', (job: { bytes?: Uint8Array; path?: string; settings: ImagingSettings }) => {
  sourceBytes(job.bytes ? (asBuffers(job.bytes) as Buffer) : { path: job.path! })
    .then((bytes) => renderImage(bytes, asBuffers(job.settings)))
    .then(
      (rendered) => process.send!({ rendered }),
      (error: unknown) => {
        const { status, code, message } = isAppError(error) ? error : { status: 500, code: 'render_failed', message: 'The render failed on our side.' };
        process.send!({ error: { status, code, message } });
      },
    );
});
