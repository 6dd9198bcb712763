import { AppError } from '../errors.js';
import { decodeBmpPixels } from './bmp-decode.js';
import { decodeInWorker, type DecodeLimits, type RawPixels } from './decode-worker.js';

/**
 * The BMP worker: the decoder's own source, run on the bytes it is sent. Compilers that keep
 * function names (esbuild's keepNames, which tsx uses for `bin/`) call a `__name` helper inside
 * that source; the worker has none of its own, so it gets one that does nothing.
 */
const WORKER = `
const { parentPort } = require('node:worker_threads');
const __name = (target) => target;
const decodeBmpPixels = ${decodeBmpPixels.toString()};
parentPort.once('message', ({ bytes, maxPixels }) => {
  try {
    const image = decodeBmpPixels(new Uint8Array(bytes), maxPixels);
    parentPort.postMessage({ data: image.data.buffer, width: image.width, height: image.height, channels: image.channels }, [image.data.buffer]);
  } catch (error) {
    const known = error && typeof error.code === 'string' && typeof error.message === 'string';
    parentPort.postMessage({ error: known ? error : { status: 422, code: 'decode_failed', message: 'The BMP data is corrupt, or uses a feature this server cannot decode.' } });
  }
});
`;

/** Decodes a BMP (sharp's libvips has no BMP loader) in a worker thread, under a deadline. */
export function decodeBmp(source: Buffer, limits: DecodeLimits): Promise<RawPixels> {
  return decodeInWorker(WORKER, undefined, source, limits, 'BMP');
}

/**
 * What the BMP decoder itself reads from the header (size, alpha), or its refusal as an AppError:
 * the upload is judged by the very parser that will decode it.
 */
export function readBmpHeader(head: Buffer): { width: number; height: number; hasAlpha: boolean } {
  try {
    const { width, height, channels } = decodeBmpPixels(head, Number.MAX_SAFE_INTEGER, true);
    return { width, height, hasAlpha: channels === 4 };
  } catch (error) {
    const { status, code, message } = error as { status: number; code: string; message: string };
    throw new AppError(status, code, message);
  }
}
