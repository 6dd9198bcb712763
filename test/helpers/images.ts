import sharp from 'sharp';

/** Real images made by real sharp, so every test states exactly what its input holds. */

export const solid = (width: number, height: number, background: string, format: 'jpeg' | 'png' = 'jpeg') =>
  sharp({ create: { width, height, channels: 3, background } })[format]().toBuffer();

/** A 300x200 JPEG, red on the left and blue on the right, stored with EXIF `orientation`. */
export async function halves(orientation: number): Promise<Buffer> {
  const left = await sharp({ create: { width: 150, height: 200, channels: 3, background: '#ff0000' } }).png().toBuffer();
  return sharp({ create: { width: 300, height: 200, channels: 3, background: '#0000ff' } })
    .composite([{ input: left, left: 0, top: 0 }])
    .jpeg({ quality: 95 })
    .withMetadata({ orientation })
    .toBuffer();
}

/** A JPEG carrying EXIF (camera, GPS), XMP and an sRGB ICC profile: everything an output must drop. */
export async function withEverything(): Promise<Buffer> {
  return sharp({ create: { width: 400, height: 300, channels: 3, background: '#336699' } })
    .jpeg()
    .withExif({ IFD0: { Make: 'TestCam', Copyright: 'secret' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' } })
    .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>')
    .withIccProfile('srgb')
    .toBuffer();
}

/** Pure sRGB red, converted into Display P3 with that profile embedded. */
export const p3Red = () => sharp({ create: { width: 64, height: 64, channels: 3, background: '#ff0000' } }).withIccProfile('p3').png().toBuffer();

/** A CMYK JPEG of sRGB red, as print workflows produce. */
export const cmykRed = () => sharp({ create: { width: 64, height: 64, channels: 3, background: '#ff0000' } }).toColourspace('cmyk').jpeg().toBuffer();

/** A PNG whose left half is fully transparent and right half opaque green. */
export async function halfTransparent(): Promise<Buffer> {
  const green = await sharp({ create: { width: 100, height: 100, channels: 4, background: { r: 0, g: 255, b: 0, alpha: 1 } } }).png().toBuffer();
  return sharp({ create: { width: 200, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([{ input: green, left: 100, top: 0 }])
    .png()
    .toBuffer();
}

/** An animated GIF of `frames` solid frames. */
export async function animatedGif(width: number, height: number, frames: number): Promise<Buffer> {
  const colours = ['#ff0000', '#00ff00', '#0000ff', '#ffff00', '#00ffff'];
  const images = await Promise.all(
    Array.from({ length: frames }, (_, i) => sharp({ create: { width, height, channels: 4, background: colours[i % colours.length]! } }).png().toBuffer()),
  );
  return sharp(images, { join: { animated: true } }).gif({ delay: images.map(() => 100) }).toBuffer();
}

/** A photo-like JPEG (noise), large enough to exercise real resizing. */
export const noisy = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg().toBuffer();

/** The RGB of one pixel. */
export async function pixel(image: Buffer, x: number, y: number, page = 0): Promise<[number, number, number]> {
  const { data, info } = await sharp(image, { page }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [data[at]!, data[at + 1]!, data[at + 2]!];
}

/** A PNG that declares `width` x `height` in its header but carries one tiny IDAT: a decompression bomb's header. */
export function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
