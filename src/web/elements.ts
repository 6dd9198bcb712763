import { thumbHashToDataURL } from 'thumbhash';
import type { ImageView } from './api.js';
import { outputOf } from '../formats/formats.js';

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A button with visible `text` and, where several on the page say the same, a `label` that tells them apart. */
export function button(text: string, label: string | undefined, onClick: (event: MouseEvent) => unknown, className?: string): HTMLButtonElement {
  const node = el('button', className, text);
  node.type = 'button';
  if (label) node.setAttribute('aria-label', label);
  node.addEventListener('click', onClick);
  return node;
}

/** The ThumbHash as an image the browser shows at once, while the real one loads. */
export const placeholderUrl = (thumbhash: string) => thumbHashToDataURL(Uint8Array.from(atob(thumbhash), (c) => c.charCodeAt(0)));

/**
 * The variant to show at about `width` CSS pixels: the smallest at least that wide (else the
 * largest), in a format every browser takes.
 */
export function previewVariant(variants: ImageView['variants'], width: number): ImageView['variants'][number] | undefined {
  const plain = variants.filter((v) => !outputOf(v.format).negotiated);
  const candidates = [...(plain.length > 0 ? plain : variants)].sort((a, b) => a.width - b.width);
  return candidates.find((v) => v.width >= width) ?? candidates.at(-1);
}
