/**
 * Control characters, and the bidirectional marks and overrides that can make `gpj.exe` read as
 * `exe.jpg` (RLO and its kin): none of them belongs in a filename.
 */
// eslint-disable-next-line no-control-regex
export const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** A client's filename reduced to something safe to keep: no path, no control or bidi characters, bounded. */
export function cleanFilename(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(UNSAFE, '').trim().slice(0, 200);
  return clean || undefined;
}
