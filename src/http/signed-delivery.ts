import type { Delivery, SignedUpload } from '../storage/delivery-port.js';
import { linkExpiry, type UrlSigner } from './signed-url.js';

/**
 * Delivery by this server itself: links and upload URLs HMAC-signed with `signer`, answered by its
 * own download and upload routes (it streams the bytes).
 */
export function createSignedDelivery(signer: UrlSigner, now: () => Date = () => new Date()): Delivery {
  const nowSeconds = () => Math.floor(now().getTime() / 1000);
  // Expiries fall on a grid, so a page polling an image gets the same links (and cache hits) for a while.
  const apiLink = (origin: string, path: string, params: Record<string, string>, ttlSeconds: number) =>
    origin + signer.sign('GET', path, params, linkExpiry(nowSeconds(), ttlSeconds));
  return {
    downloadLink: async (target, ttlSeconds) => apiLink(target.origin, target.path, target.params, ttlSeconds),
    apiLink,
    redirectFor: async () => undefined,
    // A signed link is always signed for GET; HEAD asks about the same resource.
    verifyLink: (url) => signer.verify('GET', url, nowSeconds()),
    async uploadTarget(upload, ttlSeconds) {
      const params: Record<string, string> = { size: String(upload.size), type: upload.contentType };
      if (upload.filename) params.filename = upload.filename;
      if (upload.watermark !== undefined) params.watermark = String(upload.watermark);
      // Sealed: the URL's holder must not learn the owner id.
      if (upload.owner) params.owner = signer.seal(upload.owner);
      const url = upload.origin + signer.sign('PUT', `/v1/uploads/${upload.id}`, params, nowSeconds() + ttlSeconds);
      return { url, headers: { 'Content-Type': upload.contentType } };
    },
    acceptUpload(url) {
      if (!signer.verify('PUT', url, nowSeconds())) return undefined;
      const param = (name: string) => url.searchParams.get(name) ?? undefined;
      const owner = param('owner') === undefined ? undefined : signer.unseal(param('owner')!);
      const watermark = param('watermark');
      const upload: SignedUpload & { expiresAt: number } = { contentType: param('type') ?? '', size: Number(param('size')), expiresAt: Number(param('exp')) };
      if (param('filename')) upload.filename = param('filename')!;
      if (watermark) upload.watermark = watermark === 'true';
      if (owner) upload.owner = owner;
      return upload;
    },
  };
}
