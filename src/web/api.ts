import type { z } from '@hono/zod-openapi';
import type { ImageView } from '../http/image-view.js';
import type { UploadTicket as UploadTicketSchema } from '../http/schemas.js';
import type { SignInSettings } from './session.js';

export type { ImageView };

/** What `POST /v1/uploads` answers, as the API declares it. */
export type UploadTicket = z.infer<typeof UploadTicketSchema>;

/** A refusal from the API, with the problem+json detail in words a person can read. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const KEY_STORAGE = 'image-processor.api-key';

/** Where the signed-in user's access token comes from; without one, the API key (if any) is sent. */
let accessToken: (() => Promise<string>) | undefined;
export const useAccessTokens = (source: () => Promise<string>) => (accessToken = source);

export const getApiKey = () => localStorage.getItem(KEY_STORAGE) ?? '';
export const setApiKey = (key: string) => localStorage.setItem(KEY_STORAGE, key);

/** Paths are relative to the page, so the app works under a prefix such as API Gateway's `/prod/`. */
const resolve = (path: string) => new URL(path, document.baseURI).toString();

async function problemOf(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { detail?: string; code?: string };
    return new ApiError(response.status, body.code ?? 'error', body.detail ?? response.statusText);
  } catch {
    return new ApiError(response.status, 'error', `The server answered ${response.status} ${response.statusText}.`);
  }
}

/** Calls the API as the signed-in user, or with the key (in a header, never in a URL); throws an ApiError on refusal. */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  if (accessToken) {
    let token: string;
    try {
      token = await accessToken();
    } catch {
      throw new ApiError(401, 'session_expired', 'Your session has ended; sign in again.');
    }
    headers.set('authorization', `Bearer ${token}`);
  } else {
    const key = getApiKey();
    if (key) headers.set('x-api-key', key);
  }
  const response = await fetch(resolve(path), { ...init, headers });
  if (!response.ok) throw await problemOf(response);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

/** Asks for an upload URL; `watermark` only where the server has one to apply (else its default). */
export const requestUpload = (file: File, watermark?: boolean) =>
  api<UploadTicket>('v1/uploads', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ contentType: file.type || 'application/octet-stream', size: file.size, filename: file.name, ...(watermark !== undefined ? { watermark } : {}) }),
  });

/**
 * One image; with `renderWidths`, also signed on-demand render links for those widths (`renders`);
 * with `wait`, answered once it is done or failed (or after that many seconds).
 */
export function getImage(id: string, options: { renderWidths?: number[]; wait?: number } = {}) {
  const query = new URLSearchParams();
  if (options.renderWidths?.length) query.set('renderWidths', options.renderWidths.join(','));
  if (options.wait) query.set('wait', String(options.wait));
  return api<ImageView>(`v1/images/${encodeURIComponent(id)}${query.size ? `?${query}` : ''}`);
}
export const listImages = (limit: number) => api<{ items: ImageView[]; nextCursor?: string }>(`v1/images?limit=${limit}`);
/** The server's sign-in settings, or undefined when it takes API keys only (or no credentials). */
export async function getSignIn(): Promise<SignInSettings | undefined> {
  const response = await fetch(resolve('v1/sign-in'));
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return undefined;
  return (await response.json()) as SignInSettings;
}
export const deleteImage = (id: string) => api<void>(`v1/images/${encodeURIComponent(id)}`, { method: 'DELETE' });
/** Processes an image again from its stored original (a retry of a failure on the server's side). */
export const reprocessImage = (id: string) => api<{ id: string; status: string }>(`v1/images/${encodeURIComponent(id)}/reprocess`, { method: 'POST' });

/** What `GET /v1/settings` answers: what uploads the server takes, shown before anyone chooses a file. */
export interface UploadSettings {
  maxUploadBytes: number;
  acceptedTypes: string[];
  acceptedFormats: string;
  watermark: boolean;
}
export async function getSettings(): Promise<UploadSettings> {
  const response = await fetch(resolve('v1/settings'));
  if (!response.ok) throw await problemOf(response);
  return (await response.json()) as UploadSettings;
}

/**
 * PUTs the file where the ticket says, reporting progress; XMLHttpRequest because fetch cannot
 * report upload progress. An abort (the card dismissed) ends it with an ApiError of status 0, code `aborted`.
 */
export function putFile(ticket: UploadTicket, file: File, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolvePut, reject) => {
    const xhr = new XMLHttpRequest();
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'The upload was cancelled.'));
    xhr.open(ticket.upload.method, ticket.upload.url);
    for (const [name, value] of Object.entries(ticket.upload.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolvePut();
        return;
      }
      let detail = `The upload failed with ${xhr.status}.`;
      let code = 'upload_failed';
      try {
        const body = JSON.parse(xhr.responseText) as { detail?: string; code?: string };
        detail = body.detail ?? detail;
        code = body.code ?? code;
      } catch {
        // S3 answers in XML; the status says enough.
      }
      reject(new ApiError(xhr.status, code, detail));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'The upload could not reach the server.'));
    xhr.send(file);
  });
}
