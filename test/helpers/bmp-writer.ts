/**
 * Writes BMP files of every kind the decoder takes, from known pixels, so tests can compare what
 * comes out with what went in. Palette images take palette indexes; the rest take RGBA pixels.
 */
export type BmpHeaderKind = 'core' | 'info' | 'v2' | 'v3' | 'v4' | 'v5';
export const HEADER_SIZES: Record<BmpHeaderKind, number> = { core: 12, info: 40, v2: 52, v3: 56, v4: 108, v5: 124 };

export interface BmpSpec {
  width: number;
  height: number;
  header: BmpHeaderKind;
  bits: 1 | 4 | 8 | 16 | 24 | 32;
  topDown?: boolean;
  /** rgb: plain rows; bitfields: 16 or 32 bits with `masks`; rle8 / rle4: run-length rows. */
  compression?: 'rgb' | 'bitfields' | 'rle8' | 'rle4';
  /** Palette entries as [r, g, b], for bits <= 8. */
  palette?: [number, number, number][];
  /** Per pixel, row by row from the top: a palette index (bits <= 8) or [r, g, b, a]. */
  pixels: (number | [number, number, number, number])[];
  /** Red, green, blue and alpha masks for bitfields. */
  masks?: [number, number, number, number];
}

export function writeBmp(spec: BmpSpec): Buffer {
  const { width, height, header, bits } = spec;
  const compression = spec.compression ?? 'rgb';
  const headerSize = HEADER_SIZES[header];
  const masks = spec.masks ?? (bits === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0xff0000, 0xff00, 0xff, 0]);
  const palette = spec.palette ?? [];
  // A plain info header carries bitfield masks right after it; later headers hold them inside.
  const extraMasks = header === 'info' && compression === 'bitfields' ? 12 : 0;
  const entry = header === 'core' ? 3 : 4;
  const paletteBytes = bits <= 8 ? palette.length * entry : 0;
  const pixelOffset = 14 + headerSize + extraMasks + paletteBytes;

  const rowsTopFirst = Array.from({ length: height }, (_, y) => spec.pixels.slice(y * width, (y + 1) * width));
  const fileRows = spec.topDown ? rowsTopFirst : [...rowsTopFirst].reverse();
  const data = compression === 'rle8' || compression === 'rle4' ? rle(fileRows as number[][], compression === 'rle4') : plainRows(fileRows, bits, masks);

  const file = Buffer.alloc(pixelOffset + data.length);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(pixelOffset, 10);
  file.writeUInt32LE(headerSize, 14);
  if (header === 'core') {
    file.writeUInt16LE(width, 18);
    file.writeInt16LE(spec.topDown ? -height : height, 20);
    file.writeUInt16LE(1, 22);
    file.writeUInt16LE(bits, 24);
  } else {
    file.writeInt32LE(width, 18);
    file.writeInt32LE(spec.topDown ? -height : height, 22);
    file.writeUInt16LE(1, 26);
    file.writeUInt16LE(bits, 28);
    file.writeUInt32LE({ rgb: 0, rle8: 1, rle4: 2, bitfields: 3 }[compression], 30);
    file.writeUInt32LE(data.length, 34);
    file.writeUInt32LE(bits <= 8 ? palette.length : 0, 46);
    // Red, green and blue masks at 54 (after an info header, or inside a later one); alpha from v3 on.
    const maskCount = header === 'info' || header === 'v2' ? 3 : 4;
    if (compression === 'bitfields') for (let i = 0; i < maskCount; i++) file.writeUInt32LE(masks[i]! >>> 0, 54 + i * 4);
  }
  palette.forEach(([r, g, b], i) => {
    const at = 14 + headerSize + extraMasks + i * entry;
    file[at] = b;
    file[at + 1] = g;
    file[at + 2] = r;
  });
  data.copy(file, pixelOffset);
  return file;
}

function plainRows(rows: (number | number[])[][], bits: number, masks: number[]): Buffer {
  const stride = Math.floor((bits * rows[0]!.length + 31) / 32) * 4;
  const out = Buffer.alloc(stride * rows.length);
  // Each channel scaled to its mask's bits and put in place.
  const pack = (pixel: number[]) =>
    masks.reduce((sum, mask, c) => {
      if (mask === 0) return sum;
      const shift = Math.log2((mask & -mask) >>> 0);
      return (sum | (Math.round((pixel[c]! * (mask >>> shift)) / 255) << shift)) >>> 0;
    }, 0);
  rows.forEach((row, r) => {
    const line = r * stride;
    row.forEach((pixel, x) => {
      if (bits <= 8) {
        const bit = x * bits;
        out[line + (bit >> 3)]! |= (pixel as number) << (8 - bits - (bit & 7));
      } else if (bits === 24) {
        const [red, green, blue] = pixel as number[];
        out[line + x * 3] = blue!;
        out[line + x * 3 + 1] = green!;
        out[line + x * 3 + 2] = red!;
      } else {
        const value = pack(pixel as number[]);
        if (bits === 16) out.writeUInt16LE(value, line + x * 2);
        else out.writeUInt32LE(value, line + x * 4);
      }
    });
  });
  return out;
}

/** Run-length rows: a run for each stretch of equal indexes (RLE4: of equal pairs), then end of line; end of bitmap. */
function rle(rows: number[][], four: boolean): Buffer {
  const bytes: number[] = [];
  for (const row of rows) {
    if (four) {
      for (let x = 0; x < row.length; x += 2) bytes.push(Math.min(2, row.length - x), (row[x]! << 4) | (row[x + 1] ?? 0));
    } else {
      for (let x = 0; x < row.length; ) {
        let run = 1;
        while (x + run < row.length && run < 255 && row[x + run] === row[x]) run++;
        bytes.push(run, row[x]!);
        x += run;
      }
    }
    bytes.push(0, 0);
  }
  bytes.push(0, 1);
  return Buffer.from(bytes);
}
