import sharp from 'sharp';
import { watermarkFontFile, WATERMARK_FONT_NAME } from './font.js';
import type { Logo } from '../config/logo-file.js';
import { renderLogo } from './logo.js';
import type { Watermark } from './stamp.js';

/** What the configuration says of the mark (WATERMARK_*). */
export interface WatermarkSettings {
  text: string;
  /** A logo, stamped at `scale` of the variant's width. */
  image?: Logo;
  scale: number;
  opacity: number;
  minWidth: number;
}


/** The mark's text height relative to the image width it is stamped on. */
const SIZE_RATIO = 1 / 25;
const MIN_FONT_PX = 10;
/** The mark never covers more than this share of the image width. */
const MAX_WIDTH_SHARE = 0.9;
const SHADOW_STRENGTH = 0.6;

/**
 * Renders `text` as white glyphs with a soft dark outline, so it reads on light and dark photos alike,
 * sized to `imageWidth` and faded to `opacity`. The font comes from the shipped file, never the system.
 */
export async function renderWatermark(text: string, imageWidth: number, opacity: number): Promise<Watermark> {
  const fontPx = Math.max(MIN_FONT_PX, Math.round(imageWidth * SIZE_RATIO));
  const glyphs = await sharp({
    text: { text: escapeMarkup(text), font: `${WATERMARK_FONT_NAME} ${fontPx}`, fontfile: watermarkFontFile(), dpi: 72 },
  })
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });

  const pad = Math.max(2, Math.round(fontPx * 0.15));
  const margin = markMargin(imageWidth);
  let mask = sharp(glyphs.data, { raw: { width: glyphs.info.width, height: glyphs.info.height, channels: 1 } }).extend({ top: pad, bottom: pad, left: pad, right: pad, background: 'black' });
  const maxWidth = Math.floor(imageWidth * MAX_WIDTH_SHARE) - 2 * margin;
  if (glyphs.info.width + 2 * pad > maxWidth) mask = mask.resize({ width: Math.max(1, maxWidth) });
  // extend() paints its background in sRGB, so take the one ink channel back out.
  const ink = await mask.extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  const shadow = await sharp(ink.data, { raw: { width: ink.info.width, height: ink.info.height, channels: 1 } })
    .blur(Math.max(0.5, pad / 2))
    .extractChannel(0)
    .raw()
    .toBuffer();

  const { width, height } = ink.info;
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const text = ink.data[i]! / 255;
    const dark = Math.min(1, (shadow[i]! / 255) * 2) * SHADOW_STRENGTH;
    const alpha = text + dark * (1 - text);
    const grey = alpha > 0 ? (255 * text) / alpha : 0;
    rgba[i * 4] = rgba[i * 4 + 1] = rgba[i * 4 + 2] = Math.round(grey);
    rgba[i * 4 + 3] = Math.round(alpha * opacity * 255);
  }
  const padded = await sharp(rgba, { raw: { width, height, channels: 4 } })
    .extend({ top: margin, bottom: margin, left: margin, right: margin, background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: padded.data, width: padded.info.width, height: padded.info.height };
}

/** The clear space around a mark, so that a mark in a corner stays off the edge. */
export const markMargin = (imageWidth: number) => Math.round(Math.max(MIN_FONT_PX, Math.round(imageWidth * SIZE_RATIO)) * 0.6);

const CACHED_MARKS = 32;
const marks = new Map<string, Promise<Watermark>>();

/**
 * A stamp, remembered: every image of one variant width carries the same mark, and rendering it
 * (Pango, a blur, three small pipelines) costs 10 to 20 ms of a 12 MP photo's budget each time.
 * The few most recent are kept (portrait and landscape photos give a handful of widths per variant).
 */
function remembered(key: string, render: () => Promise<Watermark>): Promise<Watermark> {
  let mark = marks.get(key);
  if (mark) {
    // Map keeps insertion order: re-inserting makes this the newest, so the oldest goes first.
    marks.delete(key);
  } else {
    mark = render();
    mark.catch(() => marks.delete(key));
  }
  marks.set(key, mark);
  if (marks.size > CACHED_MARKS) marks.delete(marks.keys().next().value!);
  return mark;
}

/** The text mark for a variant `imageWidth` pixels wide. */
export function watermarkFor(text: string, imageWidth: number, opacity: number): Promise<Watermark> {
  return remembered(JSON.stringify(['text', text, imageWidth, opacity]), () => renderWatermark(text, imageWidth, opacity));
}

/** The logo mark for a variant `imageWidth` pixels wide, with its margin. */
export function logoFor(logo: Logo, imageWidth: number, scale: number, opacity: number): Promise<Watermark> {
  return remembered(JSON.stringify(['logo', logo.digest, imageWidth, scale, opacity]), async () => {
    const stamp = await renderLogo(logo, imageWidth, scale, opacity);
    const margin = markMargin(imageWidth);
    const { data, info } = await sharp(stamp.data, { raw: { width: stamp.width, height: stamp.height, channels: 4 } })
      .extend({ top: margin, bottom: margin, left: margin, right: margin, background: { r: 0, g: 0, b: 0, alpha: 0 } })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  });
}

/** Every stamp a variant `imageWidth` pixels wide carries, top to bottom: the logo, then the text. */
export async function stampsFor(mark: WatermarkSettings, imageWidth: number): Promise<Watermark[]> {
  const stamps = await Promise.all([
    mark.image ? logoFor(mark.image, imageWidth, mark.scale, mark.opacity) : undefined,
    mark.text ? watermarkFor(mark.text, imageWidth, mark.opacity) : undefined,
  ]);
  return stamps.filter((stamp): stamp is Watermark => stamp !== undefined);
}

/**
 * Renders ahead of the first upload the marks that landscape images of each variant will carry:
 * the first rendering in a process also starts fontconfig and Pango (about 40 ms), which would
 * otherwise land on the first image.
 */
export async function prepareWatermarks(mark: WatermarkSettings, widths: number[]): Promise<void> {
  await Promise.all(widths.filter((width) => carriesMark(mark, width)).map((width) => stampsFor(mark, width)));
}

/** Whether marks are set at all: a text, a logo, or both. */
export const hasMark = (mark: Pick<WatermarkSettings, 'text' | 'image'>) => mark.text !== '' || mark.image !== undefined;

/** Whether a variant `width` pixels wide gets the mark: there is one, and room for it. */
export function carriesMark(mark: WatermarkSettings | undefined, width: number): mark is WatermarkSettings {
  return !!mark && hasMark(mark) && width >= mark.minWidth;
}

/** Pango reads its text as markup: the user's text must show as typed, never as tags. */
function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
