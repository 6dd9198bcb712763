import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { probeImage } from '../../src/imaging/probe.js';
import { renderVariants } from '../../src/imaging/pipeline/render.js';
import { pixel } from '../helpers/images.js';

/** A PNG chunk: length, type, data, CRC of type and data. */
function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'latin1'), data])));
  return Buffer.concat([length, Buffer.from(type, 'latin1'), data, crc]);
}

/** A 16-bit grey PNG at half of full scale, with these chunks put right after IHDR. */
async function halfGrey(extra: Buffer[]): Promise<Buffer> {
  const png = await sharp(new Uint16Array(64 * 64).fill(32768), { raw: { width: 64, height: 64, channels: 1 } })
    .toColourspace('grey16')
    .png()
    .toBuffer();
  const afterIhdr = 8 + 8 + png.readUInt32BE(8) + 4;
  return Buffer.concat([png.subarray(0, afterIhdr), ...extra, png.subarray(afterIhdr)]);
}

const gama = (gamma: number) => {
  const data = Buffer.alloc(4);
  data.writeUInt32BE(Math.round(gamma * 100_000));
  return chunk('gAMA', data);
};

async function rendered(png: Buffer): Promise<number> {
  const info = await probeImage(png, { maxInputPixels: 1e8, allowSvg: false });
  const [variant] = await renderVariants(png, info, [{ name: 'v', width: 32, height: 32, fit: 'inside' }], { outputFormat: 'png', quality: 80, maxInputPixels: 1e8, maxAnimationFrames: 1 });
  return (await pixel(variant!.data, 8, 8))[0];
}

describe('PNG gAMA', () => {
  it('shows a linear-light PNG (gAMA 1.0, no profile) as bright as browsers do', async () => {
    // Half of full linear light is 0.5^(1/2.2) = 73% of full scale once encoded for display.
    expect(Math.abs((await rendered(await halfGrey([gama(1)]))) - 186)).toBeLessThanOrEqual(3);
  });

  it('leaves the usual gamma, and any PNG whose profile or sRGB chunk rules, as it is', async () => {
    expect(Math.abs((await rendered(await halfGrey([gama(1 / 2.2)]))) - 128)).toBeLessThanOrEqual(2);
    expect(Math.abs((await rendered(await halfGrey([gama(1), chunk('sRGB', Buffer.from([0]))]))) - 128)).toBeLessThanOrEqual(2);
    expect(Math.abs((await rendered(await halfGrey([]))) - 128)).toBeLessThanOrEqual(2);
  });
});
