import { createRequire } from 'node:module';

let resolved: string | undefined;

/**
 * The watermark font, shipped as a dependency (or inside the Lambda asset, named by
 * WATERMARK_FONT_FILE) and handed to Pango by path: Lambda and fresh machines have no system fonts,
 * so nothing may depend on fontconfig finding one. Resolved on first use, not at import.
 */
export function watermarkFontFile(): string {
  resolved ??= process.env.WATERMARK_FONT_FILE || createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf');
  return resolved;
}

/** The family and style inside that file, as Pango names them. */
export const WATERMARK_FONT_NAME = 'DejaVu Sans Bold';
