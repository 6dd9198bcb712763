import sharp from 'sharp';

/** A small deterministic PRNG (mulberry32), so every run benchmarks the same pixels. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A photo-like JPEG of `width` x `height`, the same bytes for the same arguments: a graded sky, a
 * few hundred soft shapes, grain. Nothing is downloaded; the larger photos are the same scene drawn
 * bigger. `grain` is the noise's standard deviation: the default makes a high-ISO shot (3.5 MB per
 * 12 MP, where decoding dominates), a small one a clean daylight shot.
 */
export async function makePhoto(width: number, height: number, seed = 1, { grain = 60, progressive = false } = {}): Promise<Buffer> {
  const next = random(seed);
  const shapes: string[] = [];
  for (let i = 0; i < 300; i++) {
    const x = next() * width;
    const y = next() * height;
    const r = (0.01 + next() * 0.08) * width;
    const colour = `rgb(${Math.floor(next() * 255)},${Math.floor(next() * 255)},${Math.floor(next() * 255)})`;
    shapes.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r.toFixed(1)}" fill="${colour}" fill-opacity="${(0.2 + next() * 0.6).toFixed(2)}"/>`);
  }
  const svg = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1">` +
      `<stop offset="0" stop-color="#4a7ab8"/><stop offset="0.6" stop-color="#d9c9a3"/><stop offset="1" stop-color="#3d5a2a"/></linearGradient></defs>` +
      `<rect width="${width}" height="${height}" fill="url(#g)"/>${shapes.join('')}</svg>`,
  );
  return sharp(svg, { limitInputPixels: false, unlimited: true })
    .blur(Math.max(0.5, width / 2000))
    .composite([{ input: grainLayer(width, height, grain, next), raw: { width, height, channels: 4 }, blend: 'overlay' }])
    .jpeg({ quality: 90, progressive })
    .toBuffer();
}

/**
 * Colour noise around mid-grey at half opacity, from the seeded generator (libvips' own noise is
 * seeded afresh on every call, which made every run's photos different). A sum of three uniforms
 * stands in for a Gaussian: close enough for grain, and three times cheaper than Box-Muller.
 */
function grainLayer(width: number, height: number, sigma: number, next: () => number): Buffer {
  const layer = Buffer.alloc(width * height * 4);
  for (let i = 0; i < layer.length; i += 4) {
    for (let c = 0; c < 3; c++) layer[i + c] = Math.max(0, Math.min(255, Math.round(128 + sigma * 2 * (next() + next() + next() - 1.5))));
    layer[i + 3] = 128;
  }
  return layer;
}
