import { zipSync } from 'fflate';
import type { ImageView } from './api.js';
import { FORMATS } from '../formats/formats.js';

/** `photo.jpg`'s `medium` in WebP is `photo-medium.webp` in the archive, as its own download is named. */
const entryName = (stem: string, variant: ImageView['variants'][number]) => `${stem}-${variant.name}.${FORMATS[variant.format].extension}`;

/**
 * Every variant of one image in one ZIP, saved as `{name}.zip`. Made in the browser from the
 * variants' own signed links, stored without compression (the images are compressed already), so
 * no server holds or builds it.
 */
export async function downloadAll(image: ImageView): Promise<void> {
  const stem = (image.original.filename ?? image.id).replace(/\.[^.]*$/, '') || image.id;
  const files = await Promise.all(
    image.variants.map(async (variant) => {
      const response = await fetch(variant.url);
      if (!response.ok) throw new Error(`${variant.name} answered ${response.status}`);
      return [entryName(stem, variant), new Uint8Array(await response.arrayBuffer())] as const;
    }),
  );
  const archive = zipSync(Object.fromEntries(files), { level: 0 });
  const url = URL.createObjectURL(new Blob([archive], { type: 'application/zip' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `${stem}.zip`;
  link.click();
  // The download has its bytes once it starts; the URL is freed after.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
