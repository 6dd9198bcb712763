import sharp, { type Metadata } from 'sharp';
import type { Logo } from '../config/logo-file.js';
import type { Watermark } from './stamp.js';

/** Decodes the logo once, to check at start-up that it is a picture with alpha. */
export async function checkLogo(logo: Logo | undefined): Promise<void> {
  if (!logo) return;
  let meta: Metadata;
  try {
    meta = await sharp(logo.bytes).metadata();
  } catch {
    throw new Error('is not a picture this server can read');
  }
  if (!meta.width || !meta.height) throw new Error('has no size');
  if (!meta.hasAlpha) throw new Error('has no alpha channel: a logo needs transparency around it');
}

/**
 * The logo as a stamp for a variant `imageWidth` pixels wide: `scale` of that width, its alpha
 * faded to `opacity`. An SVG is drawn at the size it is shown, not scaled up from its own.
 */
export async function renderLogo(logo: Logo, imageWidth: number, scale: number, opacity: number): Promise<Watermark> {
  const width = Math.max(1, Math.round(imageWidth * scale));
  const meta = await sharp(logo.bytes).metadata();
  const density = meta.format === 'svg' && meta.width ? Math.min(2400, Math.max(1, (72 * width) / meta.width)) : undefined;
  const { data, info } = await sharp(logo.bytes, density ? { density } : {})
    .resize({ width })
    .ensureAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  for (let i = 3; i < data.length; i += 4) data[i] = Math.round(data[i]! * opacity);
  return { data, width: info.width, height: info.height };
}
