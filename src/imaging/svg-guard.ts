import { createReadStream } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { AppError } from '../errors.js';

/** An `<image>` or `<feImage>` element, with any namespace prefix (of any characters and length). */
const RASTER_ELEMENT = /<([^\s<>/!?"'=]+:)?(image|feimage)[\s/>]/i;
/** A data: URI where a value starts (an attribute, a CSS url() or string), whatever media type it names or omits. */
const DATA_URI = /["'(]\s*data:/i;
/** An entity declaration: `<!ENTITY name "value">`; parameter and external ones are refused. */
const ENTITY_DECLARATION = /<!ENTITY\s+([^\s%"']+)\s+(["'])([\s\S]*?)\2\s*>/gi;
const UNSAFE_DECLARATION = /<!ENTITY\s+%|<!ENTITY\s+[^\s"']+\s+(SYSTEM|PUBLIC)\b/i;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Scanned a piece at a time, each piece with the end of the one before (longer than any match). */
const PIECE_BYTES = 64 * 1024;
const OVERLAP_CHARS = 256;
/** An entity declaration may straddle pieces up to this length; entity references expand this deep. */
const MAX_DECLARATION_CHARS = 1024 * 1024;
const MAX_EXPANSION_DEPTH = 8;

const refused = () =>
  new AppError(415, 'unsupported_format', 'SVGs that embed or link raster images (<image>, <feImage>, data: URIs) are not accepted; upload the raster image itself.');
const tooComplex = () => new AppError(415, 'unsupported_format', 'This SVG declares entities this server does not expand (parameter, external or very large ones).');

/**
 * An SVG may spend only the pixels its own size says (checked against MAX_INPUT_PIXELS like any
 * image): a raster inside it would be decoded at its own size, past every limit (a 65 KB SVG can
 * hold a 20000x20000 PNG). So SVGs that embed or link images are refused, judged as the XML parser
 * will read them: UTF-16 decoded, declared entities expanded, character references resolved, any
 * namespace prefix. The file is scanned in pieces, yielding between them, so a 50 MB upload
 * neither sits whole in memory nor holds the event loop.
 */
export async function refuseEmbeddedRasters(input: string | Buffer): Promise<void> {
  const entities = new Map<string, string>();
  let tail = '';
  let decode: ((bytes: Buffer) => string) | undefined;
  for await (const piece of pieces(input)) {
    decode ??= decoderFor(piece);
    const text = tail + decode(piece);
    if (UNSAFE_DECLARATION.test(text)) throw tooComplex();
    for (const [, name, , value] of text.matchAll(ENTITY_DECLARATION)) entities.set(name!, value!);
    const resolved = resolve(text, entities);
    if (RASTER_ELEMENT.test(resolved) || DATA_URI.test(resolved)) throw refused();
    // A declaration not closed yet is carried whole into the next piece.
    const open = text.lastIndexOf('<!ENTITY');
    const carried = open >= 0 && text.indexOf('>', open) < 0 ? text.slice(open) : text.slice(-OVERLAP_CHARS);
    if (carried.length > MAX_DECLARATION_CHARS) throw tooComplex();
    tail = carried;
  }
}

/** UTF-16 by its byte order mark; otherwise latin1, which maps bytes to characters one to one (every pattern is ASCII). */
function decoderFor(first: Buffer): (bytes: Buffer) => string {
  if (first[0] === 0xff && first[1] === 0xfe) return (bytes) => bytes.toString('utf16le');
  if (first[0] === 0xfe && first[1] === 0xff) return (bytes) => Buffer.from(bytes).swap16().toString('utf16le');
  return (bytes) => bytes.toString('latin1');
}

/** The text as the parser sees it: declared entities expanded, character references and predefined entities resolved. */
function resolve(text: string, entities: Map<string, string>): string {
  // Counted as it grows, so a thousand references to a large entity stop here, not in a string of gigabytes.
  const limit = text.length * 4 + MAX_DECLARATION_CHARS;
  let out = text;
  for (let depth = 0; depth < MAX_EXPANSION_DEPTH; depth++) {
    let changed = false;
    let length = out.length;
    out = out.replace(/&([^\s&;#]+);/g, (whole, name: string) => {
      const value = entities.get(name) ?? PREDEFINED[name];
      if (value === undefined) return whole;
      length += value.length - whole.length;
      if (length > limit) throw tooComplex();
      changed = true;
      return value;
    });
    out = out.replace(/&#(x[0-9a-f]+|\d+);/gi, (whole, code: string) => {
      const point = code[0] === 'x' || code[0] === 'X' ? parseInt(code.slice(1), 16) : Number(code);
      if (!(point > 0 && point <= 0x10ffff)) return whole;
      changed = true;
      return String.fromCodePoint(point);
    });
    if (!changed) return out;
  }
  throw tooComplex();
}

async function* pieces(input: string | Buffer): AsyncGenerator<Buffer> {
  if (!Buffer.isBuffer(input)) {
    yield* createReadStream(input, { highWaterMark: PIECE_BYTES }) as AsyncIterable<Buffer>;
    return;
  }
  for (let at = 0; at < input.length; at += PIECE_BYTES) {
    if (at > 0) await nextTurn();
    yield input.subarray(at, at + PIECE_BYTES);
  }
}
