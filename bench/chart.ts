/** The workloads that run the same 12 MP photos, and so belong on one chart. */
export const COMPARED = ['naive', 'processor', 'http', 'naiveClean', 'httpClean', 'magick', 'jimp'];

const BASELINES = new Set(['naive', 'naiveClean', 'magick', 'jimp']);

/** Horizontal bars of images per second, ours in blue, the others in grey. */
export function chart(bars: Array<{ id: string; label: string; imagesPerSecond: number }>, cores: number): string {
  const width = 820;
  const barHeight = 26;
  const labelWidth = 380;
  const max = Math.max(...bars.map((bar) => bar.imagesPerSecond));
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const rows = bars
    .map((bar, i) => {
      const y = 40 + i * (barHeight + 8);
      const w = ((width - labelWidth - 70) * bar.imagesPerSecond) / max;
      const fill = BASELINES.has(bar.id) ? '#9aa5b1' : '#1f6feb';
      return (
        `<text x="${labelWidth - 8}" y="${y + 18}" text-anchor="end">${escape(bar.label)}</text>` +
        `<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${fill}"/>` +
        `<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 18}">${bar.imagesPerSecond.toFixed(2)}</text>`
      );
    })
    .join('');
  const height = 50 + bars.length * (barHeight + 8);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">` +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    `<text x="10" y="22" font-size="15" font-weight="bold">Images per second, 12 MP photos, 3 variants + watermark, ${cores} cores</text>` +
    `${rows}</svg>\n`
  );
}
