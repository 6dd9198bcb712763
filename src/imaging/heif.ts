import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors.js';

const require = createRequire(import.meta.url);

/** Decoded pixels, interleaved, row after row: what sharp takes as `raw` input. */
export interface RawPixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

/**
 * The worker's whole program. It is passed as source (eval) rather than as a file, so it runs the
 * same from the TypeScript sources, the server bundle and the Lambda chunks, wherever they sit.
 * It instantiates the libheif module compiled once by the main thread, decodes one image straight
 * to interleaved RGB (RGBA only when the image has alpha), and sends the pixels back.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const fail = (code, message) => parentPort.postMessage({ error: { code, message } });
parentPort.once('message', async ({ bytes, maxPixels }) => {
  try {
    // This build instantiates synchronously: hand it an instance of the module compiled once.
    const libheif = require(workerData.script)({
      instantiateWasm: (imports, done) => done(new WebAssembly.Instance(workerData.module, imports), workerData.module),
    });
    const [image] = new libheif.HeifDecoder().decode(new Uint8Array(bytes));
    if (!image) return fail('decode_failed', 'The HEIC file holds no image it can decode.');
    const width = image.get_width();
    const height = image.get_height();
    if (width * height > maxPixels) return fail('too_many_pixels', width + 'x' + height);
    const alpha = image.has_alpha_channel();
    const channels = alpha ? 4 : 3;
    const chroma = alpha ? libheif.heif_chroma.heif_chroma_interleaved_RGBA : libheif.heif_chroma.heif_chroma_interleaved_RGB;
    const decoded = await libheif.heif_js_decode_image2(image.handle, libheif.heif_colorspace.heif_colorspace_RGB, chroma);
    if (!decoded || decoded.code) return fail('decode_failed', 'The HEIC image data cannot be decoded.');
    const plane = decoded.channels.find((c) => c.id === libheif.heif_channel.heif_channel_interleaved);
    const out = new Uint8Array(width * height * channels);
    const row = width * channels;
    for (let y = 0; y < height; y++) out.set(plane.data.subarray(y * plane.stride, y * plane.stride + row), y * row);
    parentPort.postMessage({ data: out.buffer, width, height, channels }, [out.buffer]);
  } catch {
    fail('decode_failed', 'The HEIC image data cannot be decoded.');
  }
});
`;

/** libheif's WebAssembly, compiled once per process (off the event loop) and shared with every worker. */
let compiled: Promise<WebAssembly.Module> | undefined;
const libheifModule = () => (compiled ??= readFile(require.resolve('libheif-js/libheif-wasm/libheif.wasm')).then((bytes) => WebAssembly.compile(bytes)));

export interface HeifLimits {
  /** Refused past this many pixels, counted from the decoder's own reading of the file. */
  maxPixels: number;
  /** Past this, the worker is ended mid-decode. */
  timeoutMs: number;
}

/**
 * Decodes an HEVC HEIC (libheif as WebAssembly, which sharp's libvips lacks) in a worker thread of
 * its own: the event loop never waits on it, the deadline terminates it mid-decode, and its
 * WebAssembly memory, which grows to the largest image and never shrinks, goes with it.
 */
export async function decodeHeif(source: Buffer, limits: HeifLimits): Promise<RawPixels> {
  const module = await libheifModule();
  const worker = new Worker(WORKER, { eval: true, workerData: { module, script: require.resolve('libheif-js/libheif-wasm/libheif.js') } });
  try {
    return await new Promise<RawPixels>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AppError(422, 'timeout', `Decoding the HEIC image took longer than ${limits.timeoutMs} ms.`)), limits.timeoutMs);
      const settle = (done: () => void) => {
        clearTimeout(timer);
        done();
      };
      worker.once('message', (message: { error?: { code: string; message: string }; data?: ArrayBuffer; width: number; height: number; channels: 3 | 4 }) =>
        settle(() => {
          if (message.error?.code === 'too_many_pixels') {
            reject(new AppError(422, 'too_many_pixels', `The HEIC image is ${message.error.message} = more than the ${limits.maxPixels} pixels this processor can decode.`));
          } else if (message.error || !message.data) {
            reject(new AppError(422, message.error?.code ?? 'decode_failed', message.error?.message ?? 'The HEIC image data cannot be decoded.'));
          } else {
            resolve({ data: Buffer.from(message.data), width: message.width, height: message.height, channels: message.channels });
          }
        }),
      );
      // An abort inside the WebAssembly (out of its memory, a corrupt stream) ends the worker.
      worker.once('error', () => settle(() => reject(new AppError(422, 'decode_failed', 'The HEIC image data cannot be decoded.'))));
      worker.once('exit', () => settle(() => reject(new AppError(422, 'decode_failed', 'The HEIC decoder stopped before it finished.'))));
      // A copy the worker owns: the caller's buffer may be shared (see ObjectStore.read).
      const bytes = new Uint8Array(source).buffer;
      worker.postMessage({ bytes, maxPixels: limits.maxPixels }, [bytes]);
    });
  } finally {
    await worker.terminate();
  }
}
