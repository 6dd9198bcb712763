import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { parseVariants } from '../src/config/variants.js';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.variants).toEqual([
      { name: 'thumbnail', width: 150, height: 150, fit: 'cover' },
      { name: 'medium', width: 800, height: 800, fit: 'inside' },
      { name: 'large', width: 1600, height: 1600, fit: 'inside' },
    ]);
    expect(config).toMatchObject({
      outputFormat: 'jpeg',
      quality: 80,
      watermark: { text: '', position: 'southeast', opacity: 0.5, minWidth: 300 },
      maxUploadBytes: 50 * 1024 * 1024,
      maxInputPixels: 100_000_000,
      retentionDays: 0,
      storage: 'fs',
      dataDir: './data',
      inputBucket: 'image-processor-input-bucket',
      outputBucket: 'image-processor-output-bucket',
      allowSvg: false,
      maxAnimationFrames: 100,
      processTimeoutMs: 60_000,
      corsOrigins: [],
      host: '127.0.0.1',
      port: 3000,
      apiKeys: [],
    });
    expect(config.concurrency).toBeGreaterThanOrEqual(1);
  });

  it('reads every variable it is given', () => {
    const config = loadConfig({
      VARIANTS: 'small:64x64:cover:webp',
      OUTPUT_FORMAT: 'auto',
      QUALITY: '95',
      WATERMARK_TEXT: '© Me',
      WATERMARK_POSITION: 'northwest',
      WATERMARK_OPACITY: '0.25',
      WATERMARK_SCALE: '0.3',
      ALLOW_SVG: 'true',
      API_KEYS: 'a, b',
      CORS_ORIGINS: 'https://example.org',
      CONCURRENCY: '3',
    });
    expect(config.variants).toEqual([{ name: 'small', width: 64, height: 64, fit: 'cover', formats: ['webp'] }]);
    expect(config).toMatchObject({ outputFormat: 'auto', quality: 95, allowSvg: true, apiKeys: ['a', 'b'], corsOrigins: ['https://example.org'], concurrency: 3 });
    expect(config.watermark).toEqual({ text: '© Me', scale: 0.3, position: 'northwest', opacity: 0.25, minWidth: 300 });
  });

  it.each([
    [{ VARIANTS: 'foo' }, /VARIANTS="foo".*name:WxH:fit/],
    [{ QUALITY: '500' }, /QUALITY="500": expected a whole number from 1 to 100/],
    [{ OUTPUT_FORMAT: 'bmp' }, /OUTPUT_FORMAT="bmp": expected avif, webp, jpeg, png, gif or auto/],
    [{ WATERMARK_OPACITY: '2' }, /WATERMARK_OPACITY="2": expected a number from 0 to 1/],
    [{ ALLOW_SVG: 'yes' }, /ALLOW_SVG="yes": expected true or false/],
    [{ PORT: '70000' }, /PORT="70000"/],
  ])('stops start-up on %o with a message naming the variable and the form', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ QUALITY: '0', CONCURRENCY: 'many' })).toThrow(/QUALITY[\s\S]*CONCURRENCY/);
  });
});

describe('parseVariants', () => {
  it.each([
    ['thumb:0x10:cover', /width and height/],
    ['thumb:10x10:fill', /fit must be one of cover, inside/],
    ['thumb:10x10:cover:bmp', /format must be one of/],
    ['a:10x10:cover,a:20x20:inside', /used twice/],
    ['../x:10x10:cover', /name must be/],
    ['', /at least one variant/],
  ])('rejects %j', (text, message) => {
    expect(() => parseVariants(text)).toThrow(message);
  });
});
