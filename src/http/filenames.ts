/** A client's filename reduced to something safe to keep: no path, no control characters, bounded. */
export function cleanFilename(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim().slice(0, 200);
  return clean || undefined;
}

/**
 * A Content-Disposition header that cannot be used for header injection: an ASCII fallback of
 * safe characters, and the full name percent-encoded in `filename*` (RFC 6266).
 */
export function contentDisposition(kind: 'inline' | 'attachment', filename: string): string {
  const ascii = filename.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'image';
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** `photo.jpg` + `thumbnail` + `webp` gives `photo-thumbnail.webp`. */
export function variantFilename(original: string | undefined, id: string, variant: string, extension: string): string {
  const stem = (original ?? id).replace(/\.[^.]*$/, '') || id;
  return `${stem}-${variant}.${extension}`;
}
