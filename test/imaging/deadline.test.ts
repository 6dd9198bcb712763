import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { imagingSettings, renderImage } from '../../src/imaging/render-image.js';
import { createGate } from '../../src/processing/gate.js';
import { noisy } from '../helpers/images.js';

describe('a render past its deadline', () => {
  it('answers 422 timeout at the deadline, and holds its slot until its work has really ended', async () => {
    const settings = imagingSettings(loadConfig({ PROCESS_TIMEOUT_MS: '100', VARIANTS: 'big:3000x3000:inside:avif' }), false);
    const gate = createGate(1);
    const photo = await noisy(1000, 700);
    const started = Date.now();
    await expect(renderImage(photo, settings, gate)).rejects.toMatchObject({ status: 422, code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(settings.processTimeoutMs * 20);
    // The next render gets the slot only once no libvips work of the first is left.
    const busyWhenLetIn = await gate.run(async () => sharp.counters().process);
    expect(busyWhenLetIn).toBe(0);
  });
});
