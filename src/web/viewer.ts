import type { ImageView } from './api.js';
import { downloadAll } from './archive.js';
import { button, el, placeholderUrl, previewVariant } from './elements.js';
import { pictureSnippet } from './picture.js';
import { formatBytes, formatSize } from './words.js';
import { FORMATS, outputOf } from '../formats/formats.js';

/** Copies `text`, then says so in `said` (a live line screen readers read too); the button keeps its name. */
function copier(text: () => string, said: HTMLElement, what: string) {
  return async () => {
    try {
      await navigator.clipboard.writeText(text());
      said.textContent = `${what} copied.`;
    } catch {
      said.textContent = `${what} could not be copied: this browser did not allow it.`;
    }
  };
}

/**
 * The variants with a note for each that came out the same size as one before it (a small
 * original gives the same pixels to "medium" and "large").
 */
function sameSizeNotes(variants: ImageView['variants']): Map<string, string> {
  const firstOfSize = new Map<string, string>();
  const notes = new Map<string, string>();
  for (const v of variants) {
    const size = `${v.width}x${v.height}`;
    const first = firstOfSize.get(size);
    if (first === undefined) firstOfSize.set(size, v.name);
    else if (first !== v.name) notes.set(v.name, `same size as ${first}`);
  }
  return notes;
}

/**
 * The large view of one image, in a modal `<dialog>` (Escape closes it, focus returns to what
 * opened it): the picture, every variant and format with its size and bytes, a download and a
 * copy-link button for each, "Download all" as one ZIP, the original's download, and the
 * `<picture>` snippet to copy.
 */
export function openViewer(dialog: HTMLDialogElement, image: ImageView, opener: HTMLElement | null): void {
  const name = image.original.filename ?? image.id;
  const said = el('p', 'said');
  said.setAttribute('aria-live', 'polite');

  const title = el('h2', undefined, name);
  title.id = 'viewer-title';
  const close = button('Close', `Close ${name}`, () => dialog.close(), 'close');
  const top = el('div', 'viewer-top');
  top.append(title, close);

  const largest = previewVariant(image.variants, Infinity);
  const figure = el('div', 'viewer-picture');
  if (largest) {
    const picture = el('img');
    picture.src = largest.url;
    picture.alt = name;
    picture.width = largest.width;
    picture.height = largest.height;
    if (image.placeholder) {
      picture.style.backgroundImage = `url(${placeholderUrl(image.placeholder.thumbhash)})`;
      picture.style.backgroundColor = image.placeholder.dominantColor;
    }
    figure.append(picture);
  }

  const { original } = image;
  const originalFacts = el('p', 'meta', ['Original', formatSize(original.width, original.height), original.format ? FORMATS[original.format].label : undefined, formatBytes(original.bytes)].filter(Boolean).join(' · '));

  // A list rather than a table: on a phone each size wraps onto two lines instead of scrolling sideways.
  const sizesHeading = el('h3', undefined, 'Sizes');
  sizesHeading.id = 'viewer-sizes';
  const sizes = el('ul', 'sizes');
  sizes.setAttribute('aria-labelledby', sizesHeading.id);
  const notes = sameSizeNotes(image.variants);
  for (const variant of image.variants) {
    const label = `${variant.name} ${FORMATS[variant.format].label}`;
    const row = el('li');
    const facts = el('span', 'size-facts');
    facts.append(el('strong', undefined, variant.name), ` ${formatSize(variant.width, variant.height)} · ${FORMATS[variant.format].label} · ${formatBytes(variant.bytes)}`);
    const note = notes.get(variant.name);
    if (note) facts.append(el('span', 'note', ` (${note})`));
    const download = el('a', 'button', 'Download');
    download.href = variant.url;
    download.download = '';
    download.setAttribute('aria-label', `Download ${label}`);
    const copy = button('Copy link', `Copy link to ${label}`, copier(() => variant.url, said, `The link to ${label}`));
    const actions = el('span', 'row-actions');
    actions.append(download, copy);
    row.append(facts, actions);
    sizes.append(row);
  }

  const all = button('Download all (ZIP)', undefined, () => {
    all.disabled = true;
    all.textContent = 'Preparing the ZIP…';
    void downloadAll(image)
      .then(
        () => (said.textContent = 'The ZIP is downloading.'),
        () => (said.textContent = 'The ZIP could not be made; download the sizes one by one.'),
      )
      .finally(() => {
        all.disabled = false;
        all.textContent = 'Download all (ZIP)';
      });
  }, 'primary');
  const originalLink = el('a', 'button', 'Download original');
  originalLink.href = image.originalUrl;
  originalLink.download = '';
  const snippet = () => {
    // The largest size in every format, and each size of the plain format as the img's srcset.
    const group = image.variants.filter((v) => v.name === largest?.name);
    const plain = image.variants.filter((v) => v.format === largest?.format && !outputOf(v.format).negotiated);
    const widths = [...new Map(plain.map((v) => [v.width, { width: v.width, url: v.url }])).values()].sort((a, b) => a.width - b.width);
    return pictureSnippet(group, name, widths.length > 1 ? widths : []);
  };
  const copyPicture = button('Copy <picture> snippet', undefined, copier(snippet, said, 'The <picture> snippet'));
  const downloads = el('div', 'viewer-actions');
  downloads.append(all, originalLink, copyPicture);

  const side = el('div', 'viewer-side');
  side.append(originalFacts, sizesHeading, sizes, downloads, said);
  const body = el('div', 'viewer-body');
  body.append(figure, side);
  dialog.replaceChildren(top, body);
  dialog.setAttribute('aria-labelledby', title.id);
  dialog.addEventListener('close', () => opener?.focus(), { once: true });
  dialog.showModal();
  close.focus();
}
