/**
 * Sizes in the words people read, the same in the API's refusals and on the page: decimal units,
 * as file managers and phones show them ("8.6 MB", "950 KB").
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 999.5 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  // One decimal below 10 ("8.6 MB"), none where it is .0 or the number is larger ("8 MB", "20 MB").
  const text = value < 9.95 ? value.toFixed(1).replace(/\.0$/, '') : String(Math.round(value));
  return `${text} ${units[unit]}`;
}

/** "8.6 MB is over the 8 MB limit.", with exact counts where rounding would show the two alike. */
export function overLimit(size: number, limit: number): string {
  const [shown, most] = [formatBytes(size), formatBytes(limit)];
  if (shown !== most) return `${shown} is over the ${most} limit.`;
  const exact = (bytes: number) => `${bytes.toLocaleString('en-US')} bytes`;
  return `${exact(size)} is over the limit of ${exact(limit)}.`;
}

/** Megapixels as cameras name them: "12 MP", "0.3 MP". */
const megapixels = (pixels: number) => `${pixels >= 9.95e6 ? Math.round(pixels / 1e6) : Number((pixels / 1e6).toFixed(1))} MP`;

/** "The image is 9000×8000 (72 MP), more than the 50 MP this server takes.", exact where rounding would show the two alike. */
export function overPixelLimit(width: number, height: number, limit: number): string {
  let [shown, most] = [megapixels(width * height), megapixels(limit)];
  if (shown === most) [shown, most] = [`${(width * height).toLocaleString('en-US')} pixels`, `${limit.toLocaleString('en-US')} pixels`];
  return `The image is ${width}×${height} (${shown}), more than the ${most} this server takes.`;
}
