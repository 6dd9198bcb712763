import type { ImageView } from './api.js';
import { FORMATS, outputOf } from '../formats/formats.js';

/**
 * A `<picture>` for a variant's formats (the browser picks the best it supports), and with
 * `renders` (on-demand sizes) a `srcset` on its `<img>`, so a narrow screen fetches a narrow image.
 */
export function pictureSnippet(group: ImageView['variants'], alt: string, renders: { width: number; url: string }[] = []): string {
  // Negotiated formats as <source>s, most preferred first; the first every browser takes as the <img>.
  const sorted = [...group].sort((a, b) => outputOf(a.format).preference - outputOf(b.format).preference);
  const fallback = sorted.find((v) => !outputOf(v.format).negotiated) ?? sorted.at(-1)!;
  const attr = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const srcset = renders.length > 0 ? ` srcset="${attr(renders.map((r) => `${r.url} ${r.width}w`).join(', '))}" sizes="(max-width: ${fallback.width}px) 100vw, ${fallback.width}px"` : '';
  return [
    '<picture>',
    ...sorted.filter((v) => v !== fallback).map((v) => `  <source type="${FORMATS[v.format].mime}" srcset="${attr(v.url)}">`),
    `  <img src="${attr(fallback.url)}"${srcset} width="${fallback.width}" height="${fallback.height}" alt="${attr(alt)}">`,
    '</picture>',
  ].join('\n');
}
