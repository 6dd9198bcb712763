import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVariants, type VariantSpec } from '../src/config/variants.js';
import { isAppError } from '../src/errors.js';
import { createUrlSigner } from '../src/http/signed-url.js';
import { idFromOriginalKey, isValidId } from '../src/processing/keys.js';
import { createFsStore } from '../src/storage/fs-store.js';
import { writeBmp } from './helpers/bmp-writer.js';
import { solid } from './helpers/images.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/** Every file under `dir`, as paths relative to it. */
async function walk(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path, base)));
    else out.push(relative(base, path));
  }
  return out;
}

describe('upload endpoint under random input', () => {
  let parent: string;
  let server: TestServer;
  let jpeg: Buffer;

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'imgproc-fuzz-'));
    server = await startTestServer(join(parent, 'data'), { MAX_UPLOAD_BYTES: '20000', ALLOW_SVG: 'true' });
    jpeg = await solid(32, 32, '#102030');
  });
  afterAll(async () => {
    await server.close();
    await rm(parent, { recursive: true, force: true });
  });

  it('never answers 5xx and never writes outside the data folder', async () => {
    const header = fc.oneof(fc.constantFrom('image/jpeg', 'application/octet-stream', 'multipart/form-data', 'multipart/form-data; boundary=x', 'text/plain', ''), fc.string({ maxLength: 40 }));
    const filename = fc.oneof(fc.constantFrom('../../etc/passwd', '..\\..\\win.ini', 'a"\r\nX-Injected: 1', '/abs/path.jpg', 'ok.jpg', '.hidden', '%2e%2e%2f'), fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 30 }));
    // The decoders outside libvips get their own hostile inputs: BMPs with bytes changed, SVGs with parts put in.
    const bmp = writeBmp({ width: 6, height: 4, header: 'v5', bits: 8, compression: 'rle8', palette: [[1, 2, 3], [200, 100, 50]], pixels: Array(24).fill(1) });
    const mutatedBmp = fc.array(fc.tuple(fc.nat(bmp.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }).map((edits) => {
      const copy = Buffer.from(bmp);
      for (const [at, value] of edits) copy[at] = value;
      return new Uint8Array(copy);
    });
    const svgPart = fc.oneof(fc.constantFrom('<rect width="5" height="5"/>', '<image href="data:image/png;base64,iVBORw0KGgo="/>', '<feImage href="x.png"/>', '<circle r="3"/>'), fc.string({ maxLength: 40 }));
    const svg = fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.array(svgPart, { maxLength: 4 })).map(
      ([size, parts]) => new Uint8Array(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">${parts.join('')}</svg>`)),
    );
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      fc.uint8Array({ maxLength: 200 }).map((tail) => new Uint8Array(Buffer.concat([jpeg, Buffer.from(tail)]))),
      fc.nat({ max: 2000 }).map((cut) => new Uint8Array(jpeg.subarray(0, cut))),
      mutatedBmp,
      svg,
    );
    await fc.assert(
      fc.asyncProperty(body, header, filename, fc.constantFrom('', 'true', 'false', 'maybe'), async (bytes, type, name, watermark) => {
        const query = new URLSearchParams({ filename: name, ...(watermark ? { watermark } : {}) });
        const headers: Record<string, string> = {};
        // Header values must be ISO-8859-1 without line breaks; anything else cannot even be sent.
        if (/^[\x20-\x7e]*$/.test(type)) headers['content-type'] = type;
        const response = await server.api(`/v1/images?${query}`, { method: 'POST', body: bytes, headers });
        expect(response.status, `${response.status} for type ${JSON.stringify(type)}`).toBeLessThan(500);
        expect([202, 400, 413, 415, 422]).toContain(response.status);
        await response.arrayBuffer();
      }),
      { numRuns: 120 },
    );
    await server.queue.idle();
    // Whatever was taken ended done or failed for a reason of its own, never as our fault.
    const manifests = (await walk(join(parent, 'data'))).filter((file) => file.endsWith('/manifest.json'));
    for (const file of manifests) {
      const manifest = JSON.parse(await readFile(join(parent, 'data', file), 'utf8')) as { status: string; error?: { code: string } };
      expect(['done', 'failed']).toContain(manifest.status);
      expect(manifest.error?.code).not.toBe('internal_error');
    }
    expect(await readdir(parent)).toEqual(['data']);
    const files = await walk(join(parent, 'data'));
    // The buckets, their metadata and temporary files, and the server's own secret (owner ids).
    for (const file of files) expect(file).toMatch(/^((image-processor-(input|output)-bucket|\.meta|\.tmp)\/|\.secrets\/owner-id$)/);
  });
});

describe('parsers under random input', () => {
  it('parseVariants returns valid variants or throws a plain Error, nothing else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        try {
          for (const v of parseVariants(text)) {
            expect(v.width).toBeGreaterThan(0);
            expect(v.height).toBeGreaterThan(0);
            expect(['cover', 'inside']).toContain(v.fit);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('parseVariants reads back what it describes', () => {
    const variant = fc.record({
      name: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,10}$/),
      width: fc.integer({ min: 1, max: 16384 }),
      height: fc.integer({ min: 1, max: 16384 }),
      fit: fc.constantFrom('cover' as const, 'inside' as const),
      format: fc.option(fc.constantFrom('jpeg' as const, 'webp' as const, 'avif' as const, 'png' as const, 'gif' as const), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(variant, { minLength: 1, maxLength: 5, selector: (v) => v.name }), (variants) => {
        const text = variants.map((v) => `${v.name}:${v.width}x${v.height}:${v.fit}${v.format ? `:${v.format}` : ''}`).join(',');
        const expected: VariantSpec[] = variants.map(({ format, ...rest }) => (format ? { ...rest, formats: [format] } : rest));
        expect(parseVariants(text)).toEqual(expected);
      }),
    );
  });

  it('an id the API accepts is always one safe path segment', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 140 }), (id) => {
        if (!isValidId(id)) return;
        expect(id).not.toMatch(/[/\\]/);
        expect(id.startsWith('.')).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  it('an original key becomes an id that never contains a path separator or a dot segment', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (rest) => {
        const id = idFromOriginalKey(`originals/${rest}`);
        if (id === undefined) return;
        expect(id).not.toMatch(/[/\\]/);
        expect(['.', '..', '']).not.toContain(id);
      }),
      { numRuns: 5000 },
    );
  });

  it('the fs store maps any key inside its bucket or refuses it', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'imgproc-keys-'));
    await mkdir(join(parent, 'data'));
    const store = createFsStore(join(parent, 'data'), 'bucket');
    const key = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.array(fc.constantFrom('..', '.', '', 'a', 'b', '%2e', '\\', '\0', 'c:'), { maxLength: 6 }).map((parts) => parts.join('/')),
    );
    try {
      await fc.assert(
        fc.asyncProperty(key, async (k) => {
          try {
            await store.put(k, Buffer.from('x'));
          } catch (error) {
            expect(isAppError(error), String(error)).toBe(true);
          }
        }),
        { numRuns: 400 },
      );
      expect(await readdir(parent)).toEqual(['data']);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('a signed URL stops working when any part of it changes', () => {
    const signer = createUrlSigner('a-secret-of-at-least-thirty-two-characters');
    fc.assert(
      fc.property(fc.stringMatching(/^\/v1\/[a-z0-9/-]{1,30}$/), fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.string({ maxLength: 10 }), { maxKeys: 3 }), fc.string({ minLength: 1, maxLength: 5 }), (path, params, tamper) => {
        const url = new URL(signer.sign('GET', path, params, 2_000_000_000), 'http://x');
        expect(signer.verify('GET', url, 1_000_000_000)).toBe(true);
        expect(signer.verify('PUT', url, 1_000_000_000)).toBe(false);
        expect(signer.verify('GET', url, 2_000_000_001)).toBe(false);
        const changed = new URL(url);
        changed.searchParams.set('extra', tamper);
        expect(signer.verify('GET', changed, 1_000_000_000)).toBe(false);
        const moved = new URL(url);
        moved.pathname = `${path}x`;
        expect(signer.verify('GET', moved, 1_000_000_000)).toBe(false);
        // One link, one URL: other spellings of the same signature bytes are refused.
        const sig = url.searchParams.get('sig')!;
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const sameBits = alphabet[alphabet.indexOf(sig.at(-1)!) ^ 1]!;
        for (const spelling of [`${sig}=`, `${sig} `, sig.slice(0, -1) + sameBits]) {
          expect(Buffer.from(spelling, 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
          const respelled = new URL(url);
          respelled.searchParams.set('sig', spelling);
          expect(signer.verify('GET', respelled, 1_000_000_000)).toBe(false);
        }
      }),
    );
  });
});
