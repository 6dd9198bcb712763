import { ApiError, deleteImage, getApiKey, getImage, listImages, putFile, requestUpload, setApiKey, type ImageView } from './api.js';
import { createCard, type Card } from './card.js';
import { renderActivity } from './chart.js';

const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;

const filesInput = $<HTMLInputElement>('#files');
const dropZone = $<HTMLElement>('#drop-zone');
const watermark = $<HTMLInputElement>('#watermark');
const keySection = $<HTMLElement>('#key-section');
const keyMessage = $<HTMLElement>('#key-message');
const keyForm = $<HTMLFormElement>('#key-form');
const keyInput = $<HTMLInputElement>('#api-key');
const cards = $<HTMLUListElement>('#images');
const notice = $<HTMLElement>('#notice');
const counts = $<HTMLElement>('#counts');
const chart = $<HTMLElement>('#chart');

/** Uploads run a few at a time, so dropping a hundred files does not open a hundred connections. */
const PARALLEL_UPLOADS = 3;
const RECENT = 24;

const images = new Map<string, ImageView>();
const shown = new Set<string>();
const refreshActivity = () => renderActivity(counts, chart, [...images.values()]);

function askForKey(message: string) {
  keySection.hidden = false;
  keyMessage.textContent = message;
  keyInput.focus();
}

function showNotice(message: string) {
  notice.hidden = !message;
  notice.textContent = message;
}

/** Polls one image with back-off until it is done or failed; nothing to reload. */
function track(id: string, card: Card) {
  let delay = 400;
  const poll = async () => {
    try {
      const image = await getImage(id);
      images.set(id, image);
      card.show(image);
      refreshActivity();
      if (image.status === 'done' || image.status === 'failed') return;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        card.fail('This image no longer exists.');
        return;
      }
      if (error instanceof ApiError && error.status === 401) {
        askForKey('The server asks for an API key.');
        return;
      }
    }
    delay = Math.min(delay * 1.5, 5000);
    setTimeout(() => void poll(), delay);
  };
  void poll();
}

function enableDelete(id: string, card: Card) {
  card.onDelete(async () => {
    try {
      await deleteImage(id);
      card.element.remove();
      images.delete(id);
      shown.delete(id);
      refreshActivity();
    } catch (error) {
      showNotice(error instanceof Error ? error.message : 'The image could not be deleted.');
    }
  });
}

async function upload(file: File) {
  const card = createCard(file.name, file.size);
  cards.prepend(card.element);
  try {
    const ticket = await requestUpload(file, watermark.checked);
    await putFile(ticket, file, (fraction) => card.setProgress(fraction));
    shown.add(ticket.id);
    enableDelete(ticket.id, card);
    track(ticket.id, card);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      askForKey('The server asks for an API key before it takes uploads.');
      card.fail('Not uploaded: the server needs an API key. Enter it above and try again.');
    } else {
      card.fail(error instanceof Error ? error.message : 'The upload failed.');
    }
  }
}

async function uploadAll(files: File[]) {
  const queue = [...files];
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) await upload(file);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, queue.length) }, worker));
}

async function loadRecent() {
  try {
    const { items } = await listImages(RECENT);
    showNotice('');
    for (const image of [...items].reverse()) {
      if (shown.has(image.id)) continue;
      shown.add(image.id);
      images.set(image.id, image);
      const card = createCard(image.original.filename ?? image.id, image.original.bytes);
      card.show(image);
      enableDelete(image.id, card);
      cards.prepend(card.element);
      if (image.status !== 'done' && image.status !== 'failed') track(image.id, card);
    }
    refreshActivity();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) askForKey('This server needs an API key to show and take images.');
    else showNotice(error instanceof Error ? `Could not load recent images: ${error.message}` : 'Could not load recent images.');
  }
}

filesInput.addEventListener('change', () => {
  const files = [...(filesInput.files ?? [])];
  filesInput.value = '';
  void uploadAll(files);
});

for (const type of ['dragenter', 'dragover'] as const) {
  dropZone.addEventListener(type, (event) => {
    event.preventDefault();
    dropZone.classList.add('dragging');
  });
}
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
dropZone.addEventListener('drop', (event) => {
  event.preventDefault();
  dropZone.classList.remove('dragging');
  void uploadAll([...(event.dataTransfer?.files ?? [])]);
});

keyInput.value = getApiKey();
keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  setApiKey(keyInput.value.trim());
  keySection.hidden = true;
  void loadRecent();
});

void loadRecent();
