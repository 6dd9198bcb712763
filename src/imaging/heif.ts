import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { decodeInWorker, type DecodeLimits, type RawPixels } from './decode-worker.js';

const require = createRequire(import.meta.url);

/**
 * The HEIC worker: instantiates the libheif module compiled once by the main thread, decodes one
 * image straight to interleaved RGB (RGBA only when the image has alpha), and posts the pixels.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const fail = (status, code, message) => parentPort.postMessage({ error: { status, code, message } });
parentPort.once('message', async ({ bytes, maxPixels }) => {
  try {
    // This build instantiates synchronously: hand it an instance of the module compiled once.
    const libheif = require(workerData.script)({
      instantiateWasm: (imports, done) => done(new WebAssembly.Instance(workerData.module, imports), workerData.module),
    });
    const [image] = new libheif.HeifDecoder().decode(new Uint8Array(bytes));
    if (!image) return fail(422, 'decode_failed', 'The HEIC file holds no image this server can decode.');
    const width = image.get_width();
    const height = image.get_height();
    if (width * height > maxPixels) {
      return fail(422, 'too_many_pixels', 'The HEIC image is ' + width + 'x' + height + ' = ' + width * height + ' pixels, more than the ' + maxPixels + ' this processor can decode.');
    }
    const alpha = image.has_alpha_channel();
    const channels = alpha ? 4 : 3;
    const chroma = alpha ? libheif.heif_chroma.heif_chroma_interleaved_RGBA : libheif.heif_chroma.heif_chroma_interleaved_RGB;
    const decoded = await libheif.heif_js_decode_image2(image.handle, libheif.heif_colorspace.heif_colorspace_RGB, chroma);
    if (!decoded || decoded.code) return fail(422, 'decode_failed', 'The HEIC image data cannot be decoded.');
    const plane = decoded.channels.find((c) => c.id === libheif.heif_channel.heif_channel_interleaved);
    const out = new Uint8Array(width * height * channels);
    const row = width * channels;
    for (let y = 0; y < height; y++) out.set(plane.data.subarray(y * plane.stride, y * plane.stride + row), y * row);
    parentPort.postMessage({ data: out.buffer, width, height, channels }, [out.buffer]);
  } catch {
    fail(422, 'decode_failed', 'The HEIC image data cannot be decoded.');
  }
});
`;

/** libheif's WebAssembly, compiled once per process (off the event loop) and shared with every worker. */
let compiled: Promise<WebAssembly.Module> | undefined;
const libheifModule = () => (compiled ??= readFile(require.resolve('libheif-js/libheif-wasm/libheif.wasm')).then((bytes) => WebAssembly.compile(bytes)));

/**
 * Decodes an HEVC HEIC (libheif as WebAssembly, which sharp's libvips lacks) in a worker: its
 * WebAssembly memory, which grows to the largest image and never shrinks, goes with the worker.
 */
export async function decodeHeif(source: Buffer, limits: DecodeLimits): Promise<RawPixels> {
  const workerData = { module: await libheifModule(), script: require.resolve('libheif-js/libheif-wasm/libheif.js') };
  return decodeInWorker(WORKER, workerData, source, limits, 'HEIC');
}
