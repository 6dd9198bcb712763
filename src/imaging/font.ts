import { createRequire } from 'node:module';

/**
 * The watermark font, shipped as a dependency and handed to Pango by path: Lambda and fresh
 * machines have no system fonts, so nothing may depend on fontconfig finding one.
 */
export const WATERMARK_FONT_FILE =
  process.env.WATERMARK_FONT_FILE || createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf');

/** The family and style inside that file, as Pango names them. */
export const WATERMARK_FONT_NAME = 'DejaVu Sans Bold';
