/**
 * A little-endian TIFF of a 4x2 grey picture in one uncompressed strip, with `extra` entries
 * ([tag, type, value]: type 3 SHORT, 4 LONG) added or replacing the baseline ones.
 */
export function tiff(extra: [number, number, number][] = [], bytesAt8 = ''): Buffer {
  const pixels = Buffer.from([0, 60, 120, 180, 240, 200, 100, 20]);
  const baseline = new Map<number, [number, number]>([
    [256, [3, 4]], // ImageWidth
    [257, [3, 2]], // ImageLength
    [258, [3, 8]], // BitsPerSample
    [259, [3, 1]], // Compression: none
    [262, [3, 1]], // Photometric: black is zero
    [273, [4, 0]], // StripOffsets (filled in below)
    [277, [3, 1]], // SamplesPerPixel
    [278, [3, 2]], // RowsPerStrip
    [279, [4, pixels.length]], // StripByteCounts
  ]);
  for (const [tag, type, value] of extra) baseline.set(tag, [type, value]);
  const tags = [...baseline.entries()].sort(([a], [b]) => a - b);
  const ifdAt = 8 + bytesAt8.length;
  const pixelsAt = ifdAt + 2 + tags.length * 12 + 4;
  const file = Buffer.alloc(pixelsAt + pixels.length);
  file.write('II', 0, 'latin1');
  file.writeUInt16LE(42, 2);
  file.writeUInt32LE(ifdAt, 4);
  file.write(bytesAt8, 8, 'latin1');
  file.writeUInt16LE(tags.length, ifdAt);
  tags.forEach(([tag, [type, value]], i) => {
    const at = ifdAt + 2 + i * 12;
    file.writeUInt16LE(tag, at);
    file.writeUInt16LE(type, at + 2);
    file.writeUInt32LE(1, at + 4);
    if (type === 3) file.writeUInt16LE(tag === 273 ? pixelsAt : value, at + 8);
    else file.writeUInt32LE(tag === 273 ? pixelsAt : value, at + 8);
  });
  pixels.copy(file, pixelsAt);
  return file;
}
