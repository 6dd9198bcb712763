import {
  ApiError,
  deleteImage,
  getApiKey,
  getImage,
  getSettings,
  getSignIn,
  listImages,
  putFile,
  reprocessImage,
  requestUpload,
  setApiKey,
  useAccessTokens,
  type UploadSettings,
} from './api.js';
import { createCard, STAGE, type Card } from './card.js';
import { renderActivity } from './chart.js';
import { takeDropsAnywhere } from './page-drop.js';
import { openSession, type Session } from './session.js';
import { openViewer } from './viewer.js';
import { formatBytes } from './words.js';
import { createGate } from '../processing/gate.js';

const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;

const filesInput = $<HTMLInputElement>('#files');
const limits = $<HTMLElement>('#limits');
const watermarkToggle = $<HTMLElement>('#watermark-toggle');
const watermark = $<HTMLInputElement>('#watermark');
const keySection = $<HTMLElement>('#key-section');
const keyMessage = $<HTMLElement>('#key-message');
const keyForm = $<HTMLFormElement>('#key-form');
const keyInput = $<HTMLInputElement>('#api-key');
const list = $<HTMLUListElement>('#images');
const empty = $<HTMLElement>('#empty');
const notice = $<HTMLElement>('#notice');
const counts = $<HTMLElement>('#counts');
const chart = $<HTMLElement>('#chart');
const viewer = $<HTMLDialogElement>('#viewer');
const account = $<HTMLElement>('#account');
const accountName = $<HTMLElement>('#account-name');
const signInButton = $<HTMLButtonElement>('#sign-in');
const signOutButton = $<HTMLButtonElement>('#sign-out');
const signInSection = $<HTMLElement>('#sign-in-section');
const signInMessage = $<HTMLElement>('#sign-in-message');

/** Uploads run a few at a time, so dropping a hundred files does not open a hundred connections. */
const PARALLEL_UPLOADS = 3;
const RECENT = 24;
/** Dismissed images stay out of the list after a reload; the newest this many are remembered. */
const DISMISSED = 'image-processor.dismissed';
const DISMISSED_KEPT = 500;

/** One card and what it stands for: a file chosen here (until its upload is stored), an image on the server, or both. */
interface Entry {
  card: Card;
  file?: File;
  id?: string;
  abort?: AbortController;
  /** Refused for want of a valid key: sent again once one is given. */
  needsKey?: boolean;
  /** Its status is being followed (see track). */
  tracking?: boolean;
}

const entries = new Set<Entry>();
const byId = new Map<string, Entry>();
let settings: UploadSettings | undefined;

/** Present when the server takes sign-ins (OIDC): requests then carry the user's access token. */
let session: Session | undefined;
/** Uploads and status checks waiting for a sign-in: a sign-in then opens in a popup, so they stay. */
let waitingForSignIn = 0;

/** The counts say what the cards say: one tally over them, by stage. */
function refresh() {
  const tally = { uploading: 0, processing: 0, done: 0, failed: 0 };
  for (const { card } of entries) tally[STAGE[card.state]]++;
  counts.textContent = Object.entries(tally)
    .filter(([, n]) => n > 0)
    .map(([stage, n]) => `${n} ${stage}`)
    .join(' · ');
  empty.hidden = entries.size > 0;
  renderActivity(chart, [...entries].flatMap(({ card }) => (card.image ? [card.image] : [])));
}

function renderLimits() {
  if (!settings) return;
  const mark = settings.watermark && watermark.checked ? ' Sizes get this server’s watermark.' : ' Sizes get no watermark.';
  limits.textContent = `${settings.acceptedFormats}, up to ${formatBytes(settings.maxUploadBytes)} each.${mark}`;
  watermarkToggle.hidden = !settings.watermark;
}

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

const dismissedIds = (): string[] => {
  try {
    return JSON.parse(localStorage.getItem(DISMISSED) ?? '[]') as string[];
  } catch {
    return [];
  }
};
const rememberDismissed = (id: string) => localStorage.setItem(DISMISSED, JSON.stringify([...dismissedIds(), id].slice(-DISMISSED_KEPT)));

/** The longest the server holds a status request for an image to end (`?wait=`). */
const WAIT_SECONDS = 20;
/**
 * Held status requests at once: a browser opens six connections to a server over HTTP/1.1, and
 * tickets, uploads and previews need the rest. Other images wait their turn, in order.
 */
const heldWaits = createGate(2);

/** Follows one image until it is done or failed, one held request at a time (`?wait=`); nothing to reload. */
function track(entry: Entry) {
  const id = entry.id!;
  if (entry.tracking) return;
  entry.tracking = true;
  let delay = 400;
  const stop = () => (entry.tracking = false);
  const poll = async () => {
    if (!entries.has(entry)) return stop();
    try {
      const image = await heldWaits.run(() => getImage(id, { wait: WAIT_SECONDS }));
      if (!entries.has(entry)) return stop();
      entry.card.show(image);
      refresh();
      if (image.status === 'done' || image.status === 'failed') return stop();
      // The server held the request until its wait ran out: ask again (a moment later, should it not hold requests).
      delay = 400;
      setTimeout(() => void poll(), 250);
      return;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        entry.card.fail('This image no longer exists.', false);
        refresh();
        return stop();
      }
      if (await waitedForSignIn(error)) {
        void poll();
        return;
      }
      if (error instanceof ApiError && error.status === 401) {
        // Followed again once a key is given.
        askForKey(error.message);
        return stop();
      }
    }
    delay = Math.min(delay * 1.5, 5000);
    setTimeout(() => void poll(), delay);
  };
  void poll();
}

/** Removes a card from the page, keeping keyboard focus on the cards (or the upload button when none is left). */
function removeCard(entry: Entry) {
  const next = entry.card.element.nextElementSibling ?? entry.card.element.previousElementSibling;
  const hadFocus = entry.card.element.contains(document.activeElement);
  entry.abort?.abort();
  entries.delete(entry);
  if (entry.id) byId.delete(entry.id);
  entry.card.element.remove();
  refresh();
  if (!hadFocus) return;
  const target = next?.querySelector<HTMLButtonElement>('.card-actions button:not([hidden])');
  (target ?? filesInput).focus();
}

const uploadQueue: Entry[] = [];
let uploading = 0;

function enqueue(entry: Entry) {
  entry.card.waiting();
  entry.needsKey = false;
  uploadQueue.push(entry);
  refresh();
  pump();
}

function pump() {
  while (uploading < PARALLEL_UPLOADS && uploadQueue.length > 0) {
    const entry = uploadQueue.shift()!;
    if (!entries.has(entry)) continue;
    uploading++;
    void upload(entry).finally(() => {
      uploading--;
      pump();
    });
  }
}

/** A refusal in the words the API gave (its `detail`), and whether trying again could help. */
function refusal(error: unknown): { reason: string; retry: boolean } {
  if (!(error instanceof ApiError)) return { reason: 'The upload failed; try again.', retry: true };
  // The file itself is the problem (too large, not an image, unreadable): the same file fails again.
  const retry = ![400, 413, 415, 422].includes(error.status);
  return { reason: error.message, retry };
}

async function upload(entry: Entry) {
  const { card, file } = entry;
  if (!file) return;
  const abort = (entry.abort = new AbortController());
  try {
    let ticket;
    do
      ticket = await requestUpload(file, settings?.watermark ? watermark.checked : undefined).catch(async (error: unknown) => {
        if (await waitedForSignIn(error, card)) return undefined;
        throw error;
      });
    while (!ticket);
    if (abort.signal.aborted) return;
    card.uploading(0);
    refresh();
    await putFile(ticket, file, (fraction) => card.uploading(fraction), abort.signal);
    entry.id = ticket.id;
    byId.set(ticket.id, entry);
    card.uploaded();
    refresh();
    track(entry);
  } catch (error) {
    if (abort.signal.aborted) return;
    const { reason, retry } = refusal(error);
    if (error instanceof ApiError && error.status === 401 && !session) {
      entry.needsKey = true;
      askForKey(reason);
      card.fail(`${reason} Enter a key above: this upload then starts again.`, true);
    } else {
      card.fail(reason, retry);
    }
    refresh();
  }
}

function addCard(name: string, bytes: number, where: 'first' | 'last'): Entry {
  const entry = {} as Entry;
  entry.card = createCard(name, bytes, {
    open: () => entry.card.image && openViewer(viewer, entry.card.image, entry.card.element.querySelector<HTMLElement>('.card-actions .primary')),
    retry: () => void retry(entry),
    remove: () => void remove(entry),
    dismiss: () => {
      if (entry.id) rememberDismissed(entry.id);
      removeCard(entry);
    },
  });
  entries.add(entry);
  if (where === 'first') list.prepend(entry.card.element);
  else list.append(entry.card.element);
  return entry;
}

/** Trying again: the server processes a stored original again; a file that never got stored is sent again. */
async function retry(entry: Entry) {
  if (entry.id && entry.card.image?.status === 'failed') {
    try {
      await reprocessImage(entry.id);
      entry.card.uploaded();
      refresh();
      track(entry);
    } catch (error) {
      entry.card.fail(refusal(error).reason, true);
    }
    return;
  }
  if (entry.file) enqueue(entry);
}

async function remove(entry: Entry) {
  try {
    await deleteImage(entry.id!);
    removeCard(entry);
  } catch (error) {
    showNotice(error instanceof ApiError ? error.message : 'The image could not be deleted; try again.');
  }
}

function uploadAll(files: File[]) {
  if (files.length === 0) return;
  // Newest first, in the order chosen.
  for (const file of [...files].reverse()) {
    const entry = addCard(file.name, file.size, 'first');
    entry.file = file;
    // A file the server will refuse for its size is not worth decoding here.
    if (!settings || file.size <= settings.maxUploadBytes) entry.card.previewFile(file);
    uploadQueue.push(entry);
  }
  refresh();
  // The cards are where the news is: on a phone, bring the first into view.
  list.firstElementChild?.scrollIntoView({ block: 'nearest' });
  pump();
}

async function loadRecent() {
  try {
    const { items } = await listImages(RECENT);
    showNotice('');
    const dismissed = new Set(dismissedIds());
    for (const image of items) {
      if (byId.has(image.id) || dismissed.has(image.id)) continue;
      const entry = addCard(image.original.filename ?? image.id, image.original.bytes, 'last');
      entry.id = image.id;
      byId.set(image.id, entry);
      entry.card.show(image);
      if (image.status !== 'done' && image.status !== 'failed') track(entry);
    }
    refresh();
  } catch (error) {
    if (session && error instanceof ApiError && error.status === 401) renderAccount();
    else if (error instanceof ApiError && error.status === 401) askForKey(error.message);
    else showNotice(error instanceof ApiError ? `Your images could not be loaded: ${error.message}` : 'Your images could not be loaded; reload the page to try again.');
  } finally {
    list.setAttribute('aria-busy', 'false');
  }
}

filesInput.addEventListener('change', () => {
  const files = [...(filesInput.files ?? [])];
  filesInput.value = '';
  uploadAll(files);
});
takeDropsAnywhere($<HTMLElement>('#drop-overlay'), uploadAll);
watermark.addEventListener('change', renderLimits);

keyInput.value = getApiKey();
keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  setApiKey(keyInput.value.trim());
  keySection.hidden = true;
  // What was refused for want of a key goes again with it, and what was being followed is followed again.
  for (const entry of entries) {
    if (entry.needsKey) enqueue(entry);
    else if (entry.id && entry.card.state !== 'done' && entry.card.state !== 'failed') track(entry);
  }
  void loadRecent();
});

signInButton.addEventListener('click', () => {
  // With uploads waiting, in a popup (this page and its files stay); otherwise to the issuer and back.
  const signIn = waitingForSignIn > 0 ? session?.signInInPopup() : session?.signIn();
  void signIn?.catch((error: unknown) => showNotice(error instanceof Error ? error.message : 'Sign-in could not start.'));
});
signOutButton.addEventListener('click', () => session?.signOut());

async function start() {
  refresh();
  void getSettings().then(
    (answer) => {
      settings = answer;
      renderLimits();
    },
    () => undefined,
  );
  const signIn = await getSignIn().catch(() => undefined);
  if (signIn) {
    try {
      session = await openSession(signIn, () => {
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
