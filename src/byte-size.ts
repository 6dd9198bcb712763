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
