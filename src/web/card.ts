import type { ImageView } from './api.js';
import { el, button, placeholderUrl, previewVariant } from './elements.js';
import { formatBytes, formatSize } from './words.js';
import { FORMATS } from '../formats/formats.js';

/** Where one file is: the two first only in this page, the rest as the server says. */
export type CardState = 'waiting' | 'uploading' | 'pending' | 'processing' | 'done' | 'failed';

/** What the counts above the cards group the states into. */
export const STAGE: Record<CardState, 'uploading' | 'processing' | 'done' | 'failed'> = {
  waiting: 'uploading',
  uploading: 'uploading',
  pending: 'processing',
  processing: 'processing',
  done: 'done',
  failed: 'failed',
};

/**
 * The status element's whole text is the API's status word (SPEC.md, section 6: scripts rely on it):
 * a file not stored yet is `pending` too, its progress said beside it.
 */
const STATUS: Record<CardState, ImageView['status']> = {
  waiting: 'pending',
  uploading: 'pending',
  pending: 'pending',
  processing: 'processing',
  done: 'done',
  failed: 'failed',
};
const PROGRESS_WORDS: Partial<Record<CardState, string>> = { waiting: 'Waiting to upload', pending: 'Uploaded, waiting its turn' };

export interface CardActions {
  open(): void;
  retry(): void;
  remove(): void;
  dismiss(): void;
}

export interface Card {
  readonly element: HTMLLIElement;
  readonly state: CardState;
  /** The image as the server last described it. */
  readonly image: ImageView | undefined;
  waiting(): void;
  uploading(fraction: number): void;
  /** Its bytes are stored: the server processes it now. */
  uploaded(): void;
  show(image: ImageView): void;
  /** Failed, with a reason a person reads; `retry` when trying again could help (a dropped connection, not a broken file). */
  fail(reason: string, retry: boolean): void;
  /** A word on the card while it waits (for a sign-in, say), its state unchanged. */
  note(message: string): void;
  /** The chosen file itself as the preview until the server's arrives, where the browser can show it. */
  previewFile(file: File): void;
}

let serial = 0;
const LOCAL_PREVIEW_MAX_BYTES = 25_000_000;

/**
 * One file: its preview (at least 240 px wide), name, size and dimensions, its state in words with
 * the upload's percentage, the reason when it failed, and its buttons: open (done), retry (failed,
 * where that can help), delete (done) and dismiss (always). Every user-supplied string goes in as
 * text, never as markup.
 */
export function createCard(name: string, bytes: number, actions: CardActions): Card {
  const headingId = `card-${++serial}`;
  const element = el('li', 'card');
  element.setAttribute('aria-labelledby', headingId);

  const preview = el('div', 'preview');
  const picture = el('img');
  picture.alt = '';
  picture.hidden = true;
  // A click on the picture opens it large, for the mouse; the "Open" button does it from the keyboard.
  picture.addEventListener('click', () => current === 'done' && actions.open());
  preview.append(picture);

  const heading = el('h3');
  heading.id = headingId;
  const meta = el('p', 'meta', formatBytes(bytes));
  const state = el('p', 'state');
  const status = el('span', 'status');
  status.setAttribute('role', 'status');
  // Outside the live region: a percentage read out at every step would drown everything else.
  const progressText = el('span', 'progress-text');
  state.append(status, progressText);
  const progress = el('progress');
  progress.max = 1;
  progress.value = 0;
  progress.hidden = true;
  const reason = el('p', 'reason');
  reason.hidden = true;
  // Every size of a done image, each a download whose name starts with "Download" (SPEC.md).
  const downloads = el('ul', 'downloads');

  const open = button('Open', undefined, actions.open, 'primary');
  const retry = button('Retry', undefined, actions.retry);
  const remove = button('Delete', undefined, actions.remove, 'danger');
  const dismiss = button('Dismiss', undefined, actions.dismiss);
  const buttons = el('div', 'card-actions');
  buttons.append(open, retry, remove, dismiss);

  const body = el('div', 'card-body');
  body.append(heading, meta, state, progress, reason, downloads, buttons);
  element.append(preview, body);

  /** The file's name everywhere on the card; the server's cleaned name replaces the chosen file's once known. */
  function rename(text: string) {
    heading.textContent = text;
    progress.setAttribute('aria-label', `Upload of ${text}`);
    downloads.setAttribute('aria-label', `Downloads of ${text}`);
    open.setAttribute('aria-label', `Open ${text} large`);
    retry.setAttribute('aria-label', `Retry ${text}`);
    remove.setAttribute('aria-label', `Delete ${text}`);
    dismiss.setAttribute('aria-label', `Dismiss ${text}`);
    if (!picture.hidden) picture.alt = text;
  }
  rename(name);

  let current: CardState = 'waiting';
  let image: ImageView | undefined;
  let shownPreview = '';

  function setState(next: CardState) {
    current = next;
    element.dataset.state = next;
    status.textContent = STATUS[next];
    progressText.textContent = PROGRESS_WORDS[next] ?? '';
    progress.hidden = next !== 'uploading';
    downloads.hidden = next !== 'done';
    preview.classList.toggle('busy', next !== 'done' && next !== 'failed');
    open.hidden = next !== 'done';
    remove.hidden = next !== 'done';
    retry.hidden = true;
    if (next !== 'failed') {
      setReason('');
      preview.hidden = false;
    }
  }

  function setReason(text: string) {
    reason.textContent = text;
    reason.hidden = !text;
  }

  let shownDownloads = '';
  function showDownloads(next: ImageView) {
    // One link per size, in the format every browser takes; the large view has every format.
    const sizes = [...new Map(next.variants.map((v) => [v.name, previewVariant(next.variants.filter((w) => w.name === v.name), Infinity)!])).values()];
    const signature = sizes.map((v) => v.url).join(' ');
    if (signature === shownDownloads) return;
    shownDownloads = signature;
    downloads.replaceChildren(
      ...sizes.map((variant) => {
        const item = el('li');
        const link = el('a', undefined, variant.name);
        link.href = variant.url;
        link.download = '';
        const facts = `${formatSize(variant.width, variant.height)} ${FORMATS[variant.format].label} ${formatBytes(variant.bytes)}`;
        link.setAttribute('aria-label', `Download ${variant.name} ${facts}`);
        item.append(link, el('span', 'size', ` ${formatSize(variant.width, variant.height)}`));
        return item;
      }),
    );
  }

  setState('waiting');

  return {
    element,
    get state() {
      return current;
    },
    get image() {
      return image;
    },
    waiting() {
      setState('waiting');
    },
    uploading(fraction) {
      if (current !== 'uploading') setState('uploading');
      progressText.textContent = `Uploading ${Math.floor(fraction * 100)}%`;
      progress.value = fraction;
    },
    uploaded() {
      setState('pending');
    },
    show(next) {
      image = next;
      setState(next.status);
      if (next.status === 'failed') {
        setReason(next.error?.message ?? 'This image could not be processed.');
        // A fault on the server's side may pass; a file it cannot read will not.
        retry.hidden = !['timeout', 'render_failed', 'internal_error', 'render_unavailable'].includes(next.error?.code ?? '');
      }
      const { original } = next;
      if (heading.textContent !== (original.filename ?? next.id)) rename(original.filename ?? next.id);
      meta.textContent = [formatBytes(original.bytes), original.format?.toUpperCase(), formatSize(original.width, original.height)].filter(Boolean).join(' · ');
      showDownloads(next);
      const chosen = previewVariant(next.variants, 480);
      if (!chosen || chosen.url === shownPreview) return;
      // The ThumbHash stands in until the preview's bytes arrive; the preview loads only when near the screen.
      shownPreview = chosen.url;
      if (next.placeholder) {
        preview.style.backgroundImage = `url(${placeholderUrl(next.placeholder.thumbhash)})`;
        preview.style.backgroundColor = next.placeholder.dominantColor;
      }
      picture.src = chosen.url;
      picture.loading = 'lazy';
      picture.alt = heading.textContent;
      picture.width = chosen.width;
      picture.height = chosen.height;
      picture.hidden = false;
    },
    fail(message, canRetry) {
      setState('failed');
      // Refused before anything could be shown: the card keeps to its words.
      preview.hidden = picture.hidden;
      setReason(message);
      retry.hidden = !canRetry;
    },
    note(message) {
      setReason(message);
    },
    previewFile(file) {
      // A very large file would cost the browser more memory to show than its preview is worth.
      if (shownPreview || file.size > LOCAL_PREVIEW_MAX_BYTES) return;
      const url = URL.createObjectURL(file);
      // Shown only once the browser has decoded it (a broken file or a HEIC keeps the stand-in),
      // unless the server's preview took its place first. The URL is freed either way: the picture
      // keeps what it decoded.
      picture.addEventListener(
        'load',
        () => {
          if (picture.src === url) [picture.hidden, preview.hidden] = [false, false];
          URL.revokeObjectURL(url);
        },
        { once: true },
      );
      picture.addEventListener('error', () => URL.revokeObjectURL(url), { once: true });
      picture.src = url;
    },
  };
}
