/**
 * Builds a large HEIC the way phones store them: a `grid` image of many HEVC-coded tiles (an iPhone
 * uses 512x512 tiles). Every tile here is the one image of a small HEIC made by heif-enc, so a
 * 24 MP phone-sized photo costs a few kilobytes to make and as much as a real one to decode.
 */

interface Box {
  type: string;
  start: number;
  /** Where the payload begins (after size, type and, for full boxes, nothing: callers skip those). */
  body: number;
  end: number;
}

function* boxes(file: Buffer, from: number, to: number): Generator<Box> {
  for (let at = from; at + 8 <= to; ) {
    let size = file.readUInt32BE(at);
    let body = at + 8;
    if (size === 1) {
      size = Number(file.readBigUInt64BE(at + 8));
      body += 8;
    } else if (size === 0) {
      size = to - at;
    }
    yield { type: file.toString('latin1', at + 4, at + 8), start: at, body, end: at + size };
    at += size;
  }
}

function child(file: Buffer, parent: { body: number; end: number }, type: string, fullBox = false): Box {
  for (const box of boxes(file, parent.body + (fullBox ? 4 : 0), parent.end)) if (box.type === type) return box;
  throw new Error(`no ${type} box`);
}

/** The HEVC configuration box and the coded bytes of a single-image HEIC's primary item. */
function tileOf(heic: Buffer): { hvcC: Buffer; data: Buffer; width: number; height: number } {
  const top = { body: 0, end: heic.length };
  const meta = child(heic, top, 'meta');
  const inMeta = { body: meta.body + 4, end: meta.end };
  const primary = heic.readUInt16BE(child(heic, inMeta, 'pitm').body + 4);
  const ipco = child(heic, child(heic, inMeta, 'iprp'), 'ipco');
  const hvcC = child(heic, ipco, 'hvcC');
  const ispe = child(heic, ipco, 'ispe');
  const iloc = child(heic, inMeta, 'iloc');
  const version = heic[iloc.body]!;
  if (version !== 0) throw new Error('expected a version 0 iloc');
  const sizes = heic.readUInt16BE(iloc.body + 4);
  const [offsetSize, lengthSize, baseSize] = [sizes >> 12, (sizes >> 8) & 15, (sizes >> 4) & 15];
  const read = (at: number, bytes: number) => (bytes === 0 ? 0 : bytes === 4 ? heic.readUInt32BE(at) : Number(heic.readBigUInt64BE(at)));
  let at = iloc.body + 8;
  for (let count = heic.readUInt16BE(iloc.body + 6); count > 0; count--) {
    const id = heic.readUInt16BE(at);
    const base = read(at + 4, baseSize);
    const extents = heic.readUInt16BE(at + 4 + baseSize);
    at += 6 + baseSize;
    if (id === primary && extents === 1) {
      const offset = base + read(at, offsetSize);
      return {
        hvcC: heic.subarray(hvcC.start, hvcC.end),
        data: heic.subarray(offset, offset + read(at + offsetSize, lengthSize)),
        width: heic.readUInt32BE(ispe.body + 4),
        height: heic.readUInt32BE(ispe.body + 8),
      };
    }
    at += extents * (offsetSize + lengthSize);
  }
  throw new Error('the primary item has no single extent');
}

const box = (type: string, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
};
const fullBox = (type: string, version: number, flags: number, ...parts: Buffer[]) => {
  const vf = Buffer.alloc(4);
  vf.writeUInt32BE((version << 24) | flags);
  return box(type, vf, ...parts);
};
const u16 = (...values: number[]) => Buffer.from(values.flatMap((v) => [v >> 8, v & 255]));
const u32 = (...values: number[]) => {
  const out = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => out.writeUInt32BE(v, i * 4));
  return out;
};

/** A `width` x `height` HEIC grid tiled with the picture of `tileHeic` (a single-image HEIC). */
export function heicGrid(tileHeic: Buffer, width: number, height: number): Buffer {
  const tile = tileOf(tileHeic);
  const columns = Math.ceil(width / tile.width);
  const rows = Math.ceil(height / tile.height);
  const tiles = rows * columns;
  const tileIds = Array.from({ length: tiles }, (_, i) => i + 2);
  const gridData = Buffer.concat([Buffer.from([0, 0, rows - 1, columns - 1]), u16(width, height)]);

  const meta = (mdatData: number) =>
    fullBox(
      'meta',
      0,
      0,
      fullBox('hdlr', 0, 0, u32(0), Buffer.from('pict'), u32(0, 0, 0), Buffer.from([0])),
      fullBox('pitm', 0, 0, u16(1)),
      fullBox(
        'iinf',
        0,
        0,
        u16(1 + tiles),
        fullBox('infe', 2, 0, u16(1, 0), Buffer.from('grid\0')),
        ...tileIds.map((id) => fullBox('infe', 2, 1, u16(id, 0), Buffer.from('hvc1\0'))),
      ),
      fullBox('iref', 0, 0, box('dimg', u16(1, tiles, ...tileIds))),
      box(
        'iprp',
        box('ipco', tile.hvcC, fullBox('ispe', 0, 0, u32(tile.width, tile.height)), fullBox('ispe', 0, 0, u32(width, height))),
        fullBox('ipma', 0, 0, u32(1 + tiles), u16(1), Buffer.from([1, 3]), ...tileIds.map((id) => Buffer.concat([u16(id), Buffer.from([2, 0x81, 2])]))),
      ),
      // Every tile item points at the same coded bytes; the grid's own 8 bytes come first.
      fullBox(
        'iloc',
        0,
        0,
        Buffer.from([0x44, 0x00]),
        u16(1 + tiles),
        u16(1, 0, 1),
        u32(mdatData, gridData.length),
        ...tileIds.map((id) => Buffer.concat([u16(id, 0, 1), u32(mdatData + gridData.length, tile.data.length)])),
      ),
    );

  const ftyp = box('ftyp', Buffer.from('heic'), u32(0), Buffer.from('mif1heic'));
  // The meta box's size does not depend on the offsets it holds: measure it once, then fill them in.
  const mdatData = ftyp.length + meta(0).length + 8;
  return Buffer.concat([ftyp, meta(mdatData), box('mdat', gridData, tile.data)]);
}
