import { createRequire } from 'node:module';
import sharp from 'sharp';

/** Inputs that the libvips inside sharp's prebuilt binaries cannot decode: HEVC-coded HEIC, and BMP. */
export const FOREIGN_FORMATS: ReadonlySet<string> = new Set(['heif', 'bmp']);

const require = createRequire(import.meta.url);

interface HeifImage {
  get_width(): number;
  get_height(): number;
  display(target: { data: Uint8ClampedArray; width: number; height: number }, done: (result: { data: Uint8ClampedArray } | null) => void): void;
}

/** libheif as WebAssembly, loaded on the first HEIC only: most processes never pay for it. */
let heif: { HeifDecoder: new () => { decode(bytes: Buffer): HeifImage[] } } | undefined;

async function decodeHeif(source: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  heif ??= require('libheif-js/wasm-bundle') as typeof heif;
  const [image] = new heif!.HeifDecoder().decode(source);
  if (!image) throw new Error('the HEIF file holds no image');
  const width = image.get_width();
  const height = image.get_height();
  // libheif applies the file's rotation and mirroring (irot, imir) as it decodes.
  const pixels = await new Promise<Uint8ClampedArray>((resolve, reject) =>
    image.display({ data: new Uint8ClampedArray(width * height * 4), width, height }, (result) =>
      result ? resolve(result.data) : reject(new Error('HEIF decoding failed')),
    ),
  );
  return { data: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), width, height };
}

function decodeBmp(source: Buffer): { data: Buffer; width: number; height: number } {
  const bmp = require('bmp-js') as { decode(bytes: Buffer): { width: number; height: number; data: Buffer } };
  const { width, height, data } = bmp.decode(source);
  // bmp-js gives A, B, G, R per pixel; BMP's alpha is rarely meant, so the result is opaque.
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = data[i + 3]!;
    rgba[i + 1] = data[i + 2]!;
    rgba[i + 2] = data[i + 1]!;
    rgba[i + 3] = 255;
  }
  return { data: rgba, width, height };
}

/**
 * Decodes a HEIC or BMP original into lossless PNG bytes that the rest of the pipeline reads like
 * any upload. The caller has checked the header's pixel count first.
 */
export async function decodeForeign(source: Buffer, format: string): Promise<Buffer> {
  const { data, width, height } = format === 'bmp' ? decodeBmp(source) : await decodeHeif(source);
  return sharp(data, { raw: { width, height, channels: 4 } }).png({ compressionLevel: 1 }).toBuffer();
}
