/**
 * One-time upload URLs: the first PUT claims its URL, and every other (at the same moment, or
 * after the image was deleted) gets 409 until the URL expires anyway. A PUT that stored nothing
 * (refused bytes, a dropped connection) gives its claim back, so the client may try again.
 * Kept in this process: with URL_SIGNING_SECRET set, a restart forgets the claims of URLs still
 * valid (15 minutes at most), while the stored original keeps answering 409 as before.
 */
export function createUploadClaims(now: () => number = Date.now) {
  const claims = new Map<string, number>();
  return {
    /** Claims `id` until `expiresAtSeconds`; false when it is claimed already. */
    claim(id: string, expiresAtSeconds: number): boolean {
      const t = now();
      for (const [key, until] of claims) if (until <= t) claims.delete(key);
      if (claims.has(id)) return false;
      claims.set(id, expiresAtSeconds * 1000);
      return true;
    },
    release(id: string): void {
      claims.delete(id);
    },
  };
}
