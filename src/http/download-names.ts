import { cleanFilename, UNSAFE } from '../lifecycle/clean-filename.js';

/**
 * The name an original downloads under: the uploader's name with the extension of the format its
 * bytes are (`x.html` that is a JPEG saves as `x.jpg`), or the id when no name was given.
 */
export function originalFilename(name: string | undefined, id: string, extension: string | undefined): string {
  const stem = (cleanFilename(name) ?? id).replace(/\.[^.]*$/, '') || id;
  return extension ? `${stem}.${extension}` : `${stem}.bin`;
}

/**
 * A Content-Disposition header that cannot be used for header injection: an ASCII fallback of
 * safe characters, and the full name percent-encoded in `filename*` (RFC 6266).
 */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const filename = name.replace(UNSAFE, '');
  const ascii = filename.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'image';
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** `photo.jpg` + `thumbnail` + `webp` gives `photo-thumbnail.webp`. */
export function variantFilename(original: string | undefined, id: string, variant: string, extension: string): string {
  const stem = (original ?? id).replace(/\.[^.]*$/, '') || id;
  return `${stem}-${variant}.${extension}`;
}
