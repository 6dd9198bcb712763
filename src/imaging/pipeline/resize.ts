import sharp, { type Sharp } from 'sharp';
import { isCrop, type Fit, type VariantSpec } from '../../config/variants.js';
import type { ImageInfo } from '../probe.js';
import type { Decoded } from './decode.js';

/** How far one variant needs the original scaled down (1 = full size) before its own resize and crop. */
export function scaleNeeded(info: Pick<ImageInfo, 'width' | 'height'>, spec: VariantSpec): number {
  const x = spec.width / info.width;
  const y = spec.height / info.height;
  return Math.min(1, isCrop(spec.fit) ? Math.max(x, y) : Math.min(x, y));
}

/**
 * The size of a variant, computed from the original so every path gives the same: never enlarged
 * unless the preset says `withoutEnlargement: false`.
 */
export function resizedSize(info: Pick<ImageInfo, 'width' | 'height'>, spec: Pick<VariantSpec, 'width' | 'height' | 'fit' | 'withoutEnlargement'>): { width: number; height: number } {
  const enlarge = spec.withoutEnlargement === false;
  if (isCrop(spec.fit)) return enlarge ? { width: spec.width, height: spec.height } : { width: Math.min(info.width, spec.width), height: Math.min(info.height, spec.height) };
  const scale = Math.min(enlarge ? Infinity : 1, spec.width / info.width, spec.height / info.height);
  return { width: Math.max(1, Math.round(info.width * scale)), height: Math.max(1, Math.round(info.height * scale)) };
}

/** sharp's resize options for a fit; smart crops judge one picture, so an animation is cropped in the centre. */
export function resizeFit(fit: Fit, animated = false): { fit: 'cover' | 'inside'; position?: number } {
  if (fit === 'inside') return { fit: 'inside' };
  if (fit === 'cover' || animated) return { fit: 'cover' };
  return { fit: 'cover', position: fit === 'attention' ? sharp.strategy.attention : sharp.strategy.entropy };
}

/**
 * The resize and crop steps: the decoded frames (`pages` of them) brought to exactly the size one
 * pipeline from the original would give, not a rounding of a rounding. A crop fills the box first.
 */
export function resizeTo(decoded: Decoded, info: Pick<ImageInfo, 'width' | 'height'>, spec: VariantSpec, pages: number): { image: Sharp; width: number; height: number } {
  const target = resizedSize(info, spec);
  let image = decoded.open(pages);
  if (decoded.width !== target.width || decoded.height !== target.height) {
    image = image.resize(target.width, target.height, isCrop(spec.fit) ? resizeFit(spec.fit, pages > 1) : { fit: 'fill' });
  }
  // A preset's filters act on the variant's own pixels, after its resize.
  if (spec.blur) image = image.blur(spec.blur);
  if (spec.sharpen) image = image.sharpen();
  return { image, ...target };
}
