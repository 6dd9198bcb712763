import { describe, expect, it } from 'vitest';
import { formatBytes, overLimit, overPixelLimit } from '../../src/human-sizes.js';
import { useTestServer } from '../helpers/server.js';
import { pngHeaderOnly, solid } from '../helpers/images.js';

const testServer = useTestServer();
const KEY = 'words-key-0123456789';
const ACCEPTED = 'JPEG, PNG, WebP, AVIF, GIF, HEIC, TIFF, BMP';

const ticket = (server: { api: (path: string, init?: RequestInit) => Promise<Response> }, body: Record<string, unknown>) =>
  server.api('/v1/uploads', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('refusals in words a person reads', () => {
  it('names sizes in KB and MB, exactly only where rounding would hide the difference', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(950_000)).toBe('950 KB');
    expect(formatBytes(8_600_000)).toBe('8.6 MB');
    expect(formatBytes(8_000_000)).toBe('8 MB');
    expect(formatBytes(20_031_834)).toBe('20 MB');
    expect(formatBytes(999_999)).toBe('1 MB');
    expect(overLimit(8_600_000, 8_000_000)).toBe('8.6 MB is over the 8 MB limit.');
    expect(overLimit(8_000_001, 8_000_000)).toBe('8,000,001 bytes is over the limit of 8,000,000 bytes.');
    expect(overPixelLimit(9000, 8000, 50_000_000)).toBe('The image is 9000×8000 (72 MP), more than the 50 MP this server takes.');
    expect(overPixelLimit(800, 500, 300_000)).toBe('The image is 800×500 (0.4 MP), more than the 0.3 MP this server takes.');
    expect(overPixelLimit(700, 500, 300_000)).toBe('The image is 700×500 (350,000 pixels), more than the 300,000 pixels this server takes.');
  });

  it('says what is too large, which types are taken, and that SVG is not, in the API detail', async () => {
    const server = await testServer({ MAX_UPLOAD_BYTES: '8000000', MAX_INPUT_PIXELS: '50000000' });
    const big = await ticket(server, { contentType: 'image/jpeg', size: 20_031_834, filename: 'big.jpg' });
    expect(big.status).toBe(413);
    expect((await big.json()).detail).toBe('20 MB is over the 8 MB limit.');

    const svg = await ticket(server, { contentType: 'image/svg+xml', size: 300, filename: 'logo.svg' });
    expect(svg.status).toBe(415);
    expect((await svg.json()).detail).toBe('SVG files are not accepted on this server.');

    const pdf = await ticket(server, { contentType: 'application/pdf', size: 300, filename: 'notes.pdf' });
    expect(pdf.status).toBe(415);
    const detail = (await pdf.json()).detail as string;
    expect(detail).toBe(`This file is not an image this server takes: it accepts ${ACCEPTED}.`);
    // Named once, in words: no content types.
    expect(detail).not.toMatch(/\//);

    // Bytes that are no image, and an SVG sent as bytes, get the same words once they are read.
    const text = await server.api('/v1/images', { method: 'POST', body: 'these are my notes', headers: { 'content-type': 'image/jpeg' } });
    expect(text.status).toBe(415);
    expect((await text.json()).detail).toBe(`This file is not an image this server takes: it accepts ${ACCEPTED}.`);
    const svgBytes = await server.api('/v1/images', { method: 'POST', body: '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>', headers: { 'content-type': 'image/svg+xml' } });
    expect(svgBytes.status).toBe(415);
    expect((await svgBytes.json()).detail).toBe('SVG files are not accepted on this server.');
    const bomb = await server.api('/v1/images', { method: 'POST', body: new Uint8Array(pngHeaderOnly(10_000, 9_000)), headers: { 'content-type': 'image/png' } });
    expect(bomb.status).toBe(422);
    expect((await bomb.json()).detail).toBe('The image is 10000×9000 (90 MP), more than the 50 MP this server takes.');
  });

  it('tells a wrong key from a missing one', async () => {
    const server = await testServer({ API_KEYS: KEY });
    const missing = await fetch(`${server.url}/v1/images`);
    expect(missing.status).toBe(401);
    expect((await missing.json()).detail).toBe('This server needs an API key (the x-api-key header).');
    const wrong = await fetch(`${server.url}/v1/images`, { headers: { 'x-api-key': 'not-the-key-0123456789' } });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).detail).toBe('This key is not valid.');
  });
});

describe('GET /v1/settings', () => {
  it('tells anyone, before a key, what uploads are taken and whether a watermark is applied', async () => {
    const server = await testServer({ API_KEYS: KEY, MAX_UPLOAD_BYTES: '8000000', WATERMARK_TEXT: 'Mine' });
    const response = await fetch(`${server.url}/v1/settings`);
    expect(response.status).toBe(200);
    const settings = await response.json();
    expect(settings).toEqual({ maxUploadBytes: 8_000_000, acceptedTypes: expect.arrayContaining(['image/jpeg', 'image/heic']), acceptedFormats: ACCEPTED, watermark: true });
    expect(settings.acceptedTypes).not.toContain('image/svg+xml');

    const plain = await testServer({ ALLOW_SVG: 'true' });
    const open = await (await fetch(`${plain.url}/v1/settings`)).json();
    expect(open).toMatchObject({ watermark: false, acceptedFormats: `${ACCEPTED}, SVG` });
    expect(open.acceptedTypes).toContain('image/svg+xml');
  });

  it('gives a signed link to the original with every image', async () => {
    const server = await testServer({ API_KEYS: KEY }, { apiKey: KEY });
    const bytes = await solid(64, 48, '#336699');
    const id = await server.upload(bytes);
    const image = await server.settled(id);
    const original = await fetch(image.originalUrl);
    expect(original.status).toBe(200);
    expect(original.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await original.arrayBuffer()).equals(bytes)).toBe(true);
  });
});
