import type { VariantSpec } from '../../config/variants.js';
import { AUTO_OUTPUT, FORMATS, type OutputFormat } from '../../formats/formats.js';
import type { ImageInfo } from '../probe.js';

export interface FormatSettings {
  /** OUTPUT_FORMAT; a variant's own format wins over it. */
  outputFormat: OutputFormat | 'auto';
  /** OUTPUT_FORMATS: every variant in each of these (a variant's own format still wins). */
  outputFormats?: OutputFormat[];
}

export const isAnimated = (info: Pick<ImageInfo, 'pages' | 'format'>) => info.pages > 1 && FORMATS[info.format].animation;

/** Chooses the output format: a variant's own, else OUTPUT_FORMAT, where `auto` keeps animation and alpha. */
export function outputFormatFor(spec: VariantSpec, info: ImageInfo, configured: FormatSettings['outputFormat']): OutputFormat {
  if (spec.formats) return spec.formats[0]!;
  if (configured !== 'auto') return configured;
  if (isAnimated(info)) return AUTO_OUTPUT.animated;
  return info.hasAlpha ? AUTO_OUTPUT.alpha : AUTO_OUTPUT.opaque;
}

/** Every format a variant is rendered in: its own, else OUTPUT_FORMATS, else the one of `outputFormatFor`. */
export function outputFormatsFor(spec: VariantSpec, info: ImageInfo, settings: FormatSettings): OutputFormat[] {
  if (spec.formats) return spec.formats;
  if (settings.outputFormats?.length) return settings.outputFormats;
  return [outputFormatFor(spec, info, settings.outputFormat)];
}
