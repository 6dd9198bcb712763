import { ApiError, deleteImage, getApiKey, getImage, getSignIn, listImages, putFile, requestUpload, setApiKey, useAccessTokens, type ImageView } from './api.js';
import { createCard, type Card } from './card.js';
import { renderActivity } from './chart.js';
import { openSession, type Session } from './session.js';
import { createGate } from '../processing/gate.js';

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
const account = $<HTMLElement>('#account');
const accountName = $<HTMLElement>('#account-name');
const signInButton = $<HTMLButtonElement>('#sign-in');
const signOutButton = $<HTMLButtonElement>('#sign-out');
const signInSection = $<HTMLElement>('#sign-in-section');
const signInMessage = $<HTMLElement>('#sign-in-message');

/** Uploads run a few at a time, so dropping a hundred files does not open a hundred connections. */
const PARALLEL_UPLOADS = 3;
const RECENT = 24;

const images = new Map<string, ImageView>();
const shown = new Set<string>();
const refreshActivity = () => renderActivity(counts, chart, [...images.values()]);

/** Present when the server takes sign-ins (OIDC): requests then carry the user's access token. */
let session: Session | undefined;
/** Uploads and status checks waiting for a sign-in: a sign-in then opens in a popup, so they stay. */
let waitingForSignIn = 0;

function renderAccount(message = 'Sign in to upload photos and see yours.') {
  account.hidden = !session;
  if (!session) return;
  const signedIn = session.signedIn;
  accountName.textContent = signedIn ? (session.name ?? '') : '';
  signInButton.hidden = signedIn;
  signOutButton.hidden = !signedIn;
  signInSection.hidden = signedIn;
  if (!signedIn) signInMessage.textContent = message;
}

/** True when the refusal means "sign in (again)": the caller then waits for it and carries on. */
async function waitedForSignIn(error: unknown, card?: Card): Promise<boolean> {
  if (!session || !(error instanceof ApiError) || error.status !== 401) return false;
  const hadSession = session.signedIn || session.expired;
  // The server refused the token it was shown: it is of no more use.
  session.expire();
  waitingForSignIn++;
  card?.note(hadSession ? 'Waiting for you to sign in again; this upload will then continue.' : 'Waiting for you to sign in; this upload will then start.');
  renderAccount(hadSession ? 'Your session has ended. Sign in again: the uploads waiting here will continue.' : 'Sign in to upload: the photos you chose will then upload.');
  await session.whenSignedIn();
  waitingForSignIn--;
  card?.note('');
  return true;
}

function askForKey(message: string) {
  keySection.hidden = false;
  keyMessage.textContent = message;
  keyInput.focus();
}

function showNotice(message: string) {
  notice.hidden = !message;
  notice.textContent = message;
}

/** The longest the server holds a status request for an image to end (`?wait=`). */
const WAIT_SECONDS = 20;
/**
 * Held status requests at once: a browser opens six connections to a server over HTTP/1.1, and
 * tickets, uploads and previews need the rest. Other images wait their turn, in order.
 */
const heldWaits = createGate(2);

/** Follows one image until it is done or failed, one held request at a time (`?wait=`); nothing to reload. */
function track(id: string, card: Card) {
  let delay = 400;
  const poll = async () => {
    try {
      const image = await heldWaits.run(() => getImage(id, { wait: WAIT_SECONDS }));
      images.set(id, image);
      card.show(image);
      refreshActivity();
      if (image.status === 'done' || image.status === 'failed') return;
      // The server held the request until its wait ran out: ask again (a moment later, should it not hold requests).
      delay = 400;
      setTimeout(() => void poll(), 250);
      return;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        card.fail('This image no longer exists.');
        return;
      }
      if (await waitedForSignIn(error)) {
        void poll();
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
    let ticket;
    do ticket = await requestUpload(file, watermark.checked).catch(async (error: unknown) => {
      if (await waitedForSignIn(error, card)) return undefined;
      throw error;
    });
    while (!ticket);
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
    if (session && error instanceof ApiError && error.status === 401) renderAccount();
    else if (error instanceof ApiError && error.status === 401) askForKey('This server needs an API key to show and take images.');
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

signInButton.addEventListener('click', () => {
  // With uploads waiting, in a popup (this page and its files stay); otherwise to the issuer and back.
  const signIn = waitingForSignIn > 0 ? session?.signInInPopup() : session?.signIn();
  void signIn?.catch((error: unknown) => showNotice(error instanceof Error ? error.message : 'Sign-in could not start.'));
});
signOutButton.addEventListener('click', () => session?.signOut());

async function start() {
  const settings = await getSignIn().catch(() => undefined);
  if (settings) {
    try {
      session = await openSession(settings, () => {
        renderAccount();
        if (session?.signedIn) void loadRecent();
      });
      useAccessTokens(session.accessToken);
    } catch {
      showNotice('The sign-in service cannot be reached right now; reload the page to try again.');
      return;
    }
  }
  renderAccount(session?.failedSignIn ? 'Signing in did not complete; try again.' : undefined);
  if (!session || session.signedIn) void loadRecent();
}

void start();
