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
 * few hundred soft shapes, fine grain. Nothing is downloaded; the larger photos are the same scene
 * drawn bigger.
 */
export async function makePhoto(width: number, height: number, seed = 1, progressive = false): Promise<Buffer> {
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
    .composite([{ input: { create: { width, height, channels: 4, background: { r: 128, g: 128, b: 128, alpha: 0.06 }, noise: { type: 'gaussian', mean: 128, sigma: 60 } } }, blend: 'overlay' }])
    .jpeg({ quality: 90, progressive })
    .toBuffer();
}
