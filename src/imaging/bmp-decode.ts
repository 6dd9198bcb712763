/** What the BMP decoder gives: interleaved RGB or RGBA rows, top row first (no data in header-only mode). */
export interface BmpImage {
  width: number;
  height: number;
  channels: 3 | 4;
  data?: Uint8Array;
}

/**
 * A strict BMP decoder: every header form (core, info, v2 to v5), 1, 4, 8, 16, 24 and 32 bits per
 * pixel, palettes, bit fields (alpha included) and RLE4/RLE8 with their escapes. Every read and
 * write is bounds-checked, the work is bounded by the pixel count and the file's length, and the
 * pixel limit is checked against this decoder's own reading of the header before anything is
 * allocated. A failure throws `{ status, code, message }` (415 for what it does not support,
 * 422 for what is broken), in words fit for the client.
 *
 * It is self-contained on purpose: its source text is what the BMP worker runs (see bmp.ts), so it
 * uses nothing but JavaScript's built-ins, not even a helper of this module.
 */
export function decodeBmpPixels(file: Uint8Array, maxPixels: number, headerOnly = false): BmpImage {
  const fail = (status: number, code: string, message: string): never => {
    throw { status, code, message };
  };
  const broken = (what: string) => fail(422, 'decode_failed', `The BMP file is broken: ${what}.`);
  const cutShort = () => fail(422, 'decode_failed', 'The BMP file is cut short: its end is missing. Upload the whole file.');
  const size = file.byteLength;
  const view = new DataView(file.buffer, file.byteOffset, size);
  const need = (end: number) => {
    if (end > size) cutShort();
  };
  need(18);
  if (file[0] !== 0x42 || file[1] !== 0x4d) broken('it does not start with BM');
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);

  let width: number;
  let height: number;
  let planes: number;
  let bits: number;
  let compression = 0;
  let colorsUsed = 0;
  let entrySize = 4;
  let masks: number[] | undefined;
  if (headerSize === 12) {
    need(26);
    width = view.getUint16(18, true);
    height = view.getInt16(20, true);
    planes = view.getUint16(22, true);
    bits = view.getUint16(24, true);
    entrySize = 3;
  } else if (headerSize === 40 || headerSize === 52 || headerSize === 56 || headerSize === 108 || headerSize === 124) {
    need(14 + headerSize);
    width = view.getInt32(18, true);
    height = view.getInt32(22, true);
    planes = view.getUint16(26, true);
    bits = view.getUint16(28, true);
    compression = view.getUint32(30, true);
    colorsUsed = view.getUint32(46, true);
    // Version 2 and later headers hold the masks; a plain info header is followed by them, unless
    // the pixels start right after it (some writers leave them out: then the defaults hold).
    const count = headerSize >= 56 || compression === 6 ? 4 : 3;
    if ((compression === 3 || compression === 6) && (headerSize > 40 || dataOffset >= 54 + count * 4)) {
      need(54 + count * 4);
      masks = [0, 1, 2, 3].map((i) => (i < count ? view.getUint32(54 + i * 4, true) : 0));
    }
  } else {
    return fail(415, 'unsupported_format', `BMP files with a ${headerSize}-byte header (OS/2 and other rare kinds) are not supported.`);
  }

  if (compression === 4 || compression === 5) fail(415, 'unsupported_format', 'BMP files that wrap a JPEG or PNG are not supported; upload the JPEG or PNG itself.');
  const supported =
    (compression === 0 && [1, 4, 8, 16, 24, 32].includes(bits)) ||
    (compression === 1 && bits === 8) ||
    (compression === 2 && bits === 4) ||
    ((compression === 3 || compression === 6) && (bits === 16 || bits === 32));
  if (!supported) fail(415, 'unsupported_format', `BMP files with ${bits} bits per pixel and compression ${compression} are not supported.`);
  if (planes !== 1) broken(`it declares ${planes} planes`);
  if (width < 1 || height === 0 || height === -2147483648) broken('it gives no dimensions');
  const topDown = height < 0;
  const rows = Math.abs(height);
  if (topDown && (compression === 1 || compression === 2)) broken('compressed rows cannot run top-down');
  if (width * rows > maxPixels) {
    // The words of human-sizes.ts's overPixelLimit, written out: this file may use nothing of another module.
    const mp = (pixels: number) => `${pixels >= 9.95e6 ? Math.round(pixels / 1e6) : Number((pixels / 1e6).toFixed(1))} MP`;
    const exact = mp(width * rows) === mp(maxPixels);
    const say = (pixels: number) => (exact ? `${pixels.toLocaleString('en-US')} pixels` : mp(pixels));
    fail(422, 'too_many_pixels', `The image is ${width}×${rows} (${say(width * rows)}), more than the ${say(maxPixels)} this server takes.`);
  }

  // Bit fields: each mask one contiguous run of bits within the pixel, red, green and blue present.
  if (bits === 16 || bits === 32) masks ??= bits === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0xff0000, 0xff00, 0xff, 0];
  const fields = (masks ?? []).map((mask) => {
    const m = mask >>> 0;
    if (m === 0) return { mask: 0, shift: 0, max: 0 };
    let shift = 0;
    while (((m >>> shift) & 1) === 0) shift++;
    const max = m >>> shift;
    if ((max & (max + 1)) !== 0 || (bits === 16 && m > 0xffff)) broken('its colour masks are not runs of bits');
    return { mask: m, shift, max };
  });
  if (fields.length > 0 && fields.slice(0, 3).some((field) => field.mask === 0)) broken('a colour mask is empty');
  const alpha = fields.length === 4 && fields[3]!.mask !== 0;
  const channels = alpha ? 4 : 3;
  if (headerOnly) return { width, height: rows, channels };

  // The palette: after the header (and a plain info header's masks), at most 256 entries.
  const palette = new Uint8Array(256 * 3);
  if (bits <= 8) {
    const start = 14 + headerSize + (headerSize === 40 && masks ? (compression === 6 ? 16 : 12) : 0);
    // Without a count (always so in a core header), what fits between header and pixels, at most 2^bits.
    const room = dataOffset > start ? Math.floor((dataOffset - start) / entrySize) : 1 << bits;
    const count = colorsUsed || Math.min(1 << bits, room);
    if (count > 256) broken(`its palette has ${count} colours`);
    need(start + count * entrySize);
    for (let i = 0; i < count; i++) {
      palette[i * 3] = file[start + i * entrySize + 2]!;
      palette[i * 3 + 1] = file[start + i * entrySize + 1]!;
      palette[i * 3 + 2] = file[start + i * entrySize]!;
    }
  }

  const out = new Uint8Array(width * rows * channels);
  /** Row `r` of the file (bottom-up unless topDown) is row `y` of the picture. */
  const rowOf = (r: number) => (topDown ? r : rows - 1 - r);
  const putIndex = (x: number, r: number, index: number) => {
    const at = (rowOf(r) * width + x) * channels;
    out[at] = palette[index * 3]!;
    out[at + 1] = palette[index * 3 + 1]!;
    out[at + 2] = palette[index * 3 + 2]!;
  };

  if (compression === 1 || compression === 2) {
    // Pixels no code reaches keep palette entry 0, as ImageMagick draws them.
    for (let r = 0; r < rows; r++) for (let x = 0; x < width; x++) putIndex(x, r, 0);
    const four = compression === 2;
    let at = dataOffset;
    let x = 0;
    let r = 0;
    // Each code moves forward in the file and in the picture (x and the row only grow), and a
    // write lands only inside the picture: the work is bounded by the file and the pixel count.
    while (r < rows && at + 1 < size) {
      const count = file[at]!;
      const value = file[at + 1]!;
      at += 2;
      if (count > 0) {
        for (let i = 0; i < count && x + i < width; i++) putIndex(x + i, r, four ? (i % 2 === 0 ? value >> 4 : value & 15) : value);
        x += count;
      } else if (value === 0) {
        x = 0;
        r++;
      } else if (value === 1) {
        break;
      } else if (value === 2) {
        need(at + 2);
        x += file[at]!;
        r += file[at + 1]!;
        at += 2;
      } else {
        const bytes = four ? Math.ceil(value / 2) : value;
        need(at + bytes);
        for (let i = 0; i < value && x + i < width; i++) {
          const byte = file[at + (four ? i >> 1 : i)]!;
          putIndex(x + i, r, four ? (i % 2 === 0 ? byte >> 4 : byte & 15) : byte);
        }
        x += value;
        at += bytes + (bytes % 2);
      }
    }
    return { width, height: rows, channels, data: out };
  }

  const stride = Math.floor((bits * width + 31) / 32) * 4;
  need(dataOffset + stride * rows);
  const scale = fields.map((field) => (field.max === 0 ? 0 : 255 / field.max));
  let allZeroAlpha = true;
  for (let r = 0; r < rows; r++) {
    const line = dataOffset + r * stride;
    const y = rowOf(r);
    for (let x = 0; x < width; x++) {
      const to = (y * width + x) * channels;
      if (bits <= 8) {
        const bit = x * bits;
        const byte = file[line + (bit >> 3)]!;
        const index = (byte >> (8 - bits - (bit & 7))) & ((1 << bits) - 1);
        out[to] = palette[index * 3]!;
        out[to + 1] = palette[index * 3 + 1]!;
        out[to + 2] = palette[index * 3 + 2]!;
      } else if (bits === 24) {
        out[to] = file[line + x * 3 + 2]!;
        out[to + 1] = file[line + x * 3 + 1]!;
        out[to + 2] = file[line + x * 3]!;
      } else {
        const value = bits === 16 ? view.getUint16(line + x * 2, true) : view.getUint32(line + x * 4, true);
        for (let c = 0; c < channels; c++) {
          const field = fields[c]!;
          out[to + c] = Math.round((((value & field.mask) >>> 0) >>> field.shift) * scale[c]!);
        }
        if (alpha && out[to + 3] !== 0) allZeroAlpha = false;
      }
    }
  }
  // An alpha mask over pixels that are all zero there is a writer's habit, not transparency.
  if (alpha && allZeroAlpha) for (let i = 3; i < out.length; i += 4) out[i] = 255;
  return { width, height: rows, channels, data: out };
}
