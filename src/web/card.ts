import { getImage, type ImageView } from './api.js';
import { thumbHashToDataURL } from 'thumbhash';
import { formatBytes, formatSize } from './format.js';
import { FORMATS, outputOf } from '../formats/formats.js';

export interface Card {
  element: HTMLLIElement;
  setProgress(fraction: number): void;
  show(image: ImageView): void;
  fail(reason: string): void;
  /** A word on the card while it waits (for a sign-in, say), its status unchanged. */
  note(message: string): void;
  onDelete(handler: () => void): void;
}

type Status = ImageView['status'];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

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

/** Widths for a srcset of a variant `width` wide: half, whole and double, never past the original. */
const srcsetWidths = (width: number, originalWidth: number | undefined) =>
  [...new Set([Math.round(width / 2), width, width * 2].map((w) => Math.min(w, originalWidth ?? w)))].filter((w) => w >= 1);

/** A button that copies the variant's `<picture>`, with a srcset of on-demand sizes where the server makes them. */
function copyPicture(image: ImageView, group: ImageView['variants'], alt: string): HTMLButtonElement {
  const button = el('button', 'copy', `Copy <picture> for ${group[0]!.name}`);
  button.type = 'button';
  button.addEventListener('click', () => {
    const widths = srcsetWidths(Math.max(...group.map((v) => v.width)), image.original.width);
    // Without on-demand sizes here (or any refusal), the snippet has no srcset.
    const snippet = getImage(image.id, { renderWidths: widths }).then(
      (view) => pictureSnippet(group, alt, view.renders),
      () => pictureSnippet(group, alt),
    );
    void snippet.then((text) => navigator.clipboard.writeText(text)).then(
      () => (button.textContent = 'Copied'),
      () => (button.textContent = 'Copy failed: select it in the page source instead'),
    );
  });
  return button;
}

let serial = 0;

/**
 * One image: name, size and dimensions, an upload progress bar, its status (an element whose whole
 * text is the status), the reason when it failed, and each variant with a preview and a download link.
 * Every user-supplied string goes in as text, never as markup.
 */
export function createCard(name: string, bytes: number): Card {
  const headingId = `card-${++serial}`;
  const element = el('li', 'card');
  element.setAttribute('aria-labelledby', headingId);
  const heading = el('h3', undefined, name);
  heading.id = headingId;
  const meta = el('p', 'meta', formatBytes(bytes));
  const progress = el('progress');
  progress.max = 1;
  progress.value = 0;
  progress.setAttribute('aria-label', `Upload of ${name}`);
  const state = el('p', 'state');
  const status = el('span', 'status');
  status.setAttribute('role', 'status');
  const reason = el('span', 'reason');
  state.append(status, reason);
  const placeholder = el('div', 'placeholder');
  placeholder.setAttribute('aria-hidden', 'true');
  const variants = el('ul', 'variants');
  variants.setAttribute('aria-label', `Variants of ${name}`);
  const remove = el('button', 'delete', 'Delete');
  remove.type = 'button';
  remove.setAttribute('aria-label', `Delete ${name}`);
  remove.hidden = true;
  element.append(heading, meta, progress, state, placeholder, variants, remove);

  const setStatus = (value: Status) => {
    status.textContent = value;
    status.className = `status ${value}`;
  };
  setStatus('pending');

  let shownVariants = '';

  return {
    element,
    setProgress(fraction) {
      progress.value = fraction;
      if (fraction >= 1) progress.hidden = true;
    },
    show(image) {
      progress.hidden = true;
      remove.hidden = false;
      setStatus(image.status);
      reason.textContent = image.error ? image.error.message : '';
      const { original } = image;
      heading.textContent = original.filename ?? image.id;
      meta.textContent = [formatBytes(original.bytes), original.format?.toUpperCase(), formatSize(original.width, original.height)].filter(Boolean).join(' · ');
      placeholder.hidden = image.status !== 'pending' && image.status !== 'processing';
      // Re-render the previews only when they change, so images do not flicker between polls.
      const signature = image.variants.map((v) => `${v.name}:${v.bytes}`).join(',');
      if (signature === shownVariants) return;
      shownVariants = signature;
      // The ThumbHash stands in for each preview until its bytes arrive.
      const standIn = image.placeholder ? `url(${thumbHashToDataURL(Uint8Array.from(atob(image.placeholder.thumbhash), (c) => c.charCodeAt(0)))})` : '';
      // One row per variant; with several formats, a link per format and a <picture> snippet to copy.
      const groups = new Map<string, ImageView['variants']>();
      for (const variant of image.variants) groups.set(variant.name, [...(groups.get(variant.name) ?? []), variant]);
      variants.replaceChildren(
        ...[...groups.values()].map((group) => {
          const first = group[0]!;
          const item = el('li', 'variant');
          const preview = el('img');
          preview.src = (group.find((v) => !outputOf(v.format).negotiated) ?? first).url;
          preview.alt = `${first.name} of ${heading.textContent}`;
          preview.loading = 'lazy';
          preview.width = 72;
          preview.height = 72;
          if (standIn) preview.style.backgroundImage = standIn;
          if (image.placeholder) preview.style.backgroundColor = image.placeholder.dominantColor;
          const text = el('div');
          for (const variant of group) {
            const link = el('a', 'download', group.length > 1 ? `Download ${variant.name} (${variant.format.toUpperCase()})` : `Download ${variant.name}`);
            link.href = variant.url;
            link.download = '';
            text.append(link);
          }
          const formats = group.map((v) => `${v.format.toUpperCase()} ${formatBytes(v.bytes)}`).join(', ');
          text.append(el('span', 'size', `${formatSize(first.width, first.height)} · ${formats}`));
          if (group.length > 1) text.append(copyPicture(image, group, preview.alt));
          item.append(preview, text);
          return item;
        }),
      );
    },
    fail(message) {
      progress.hidden = true;
      placeholder.hidden = true;
      setStatus('failed');
      reason.textContent = message;
    },
    note(message) {
      reason.textContent = message;
    },
    onDelete(handler) {
      remove.addEventListener('click', handler);
    },
  };
}
