export { formatBytes } from '../human-sizes.js';

export const formatSize = (width?: number, height?: number) => (width && height ? `${width}×${height}` : '');

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** The time from upload to the final status, when the image has one. */
export function processingMs(image: { createdAt: string; completedAt?: string }): number | undefined {
  if (!image.completedAt) return undefined;
  return Math.max(0, Date.parse(image.completedAt) - Date.parse(image.createdAt));
}
