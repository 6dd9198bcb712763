import type { Delivery, StoredDownload } from './delivery-port.js';
import type { ObjectStore, SignedLinks } from './object-store.js';

/**
 * Delivery by stores that sign their own links (on AWS: presigned S3 URLs) for downloads (each download answered with a redirect to one)
 * and for uploads, which go straight to the input bucket; the object-created event starts the work.
 * Links to the API itself (on-demand renders) exist only with `ownLinks`, signed with a secret the
 * API holds; without them no link of the API's own is ever valid.
 */
export function createStoreDelivery(buckets: { input: ObjectStore & SignedLinks; output: ObjectStore & SignedLinks }, ownLinks?: Required<Pick<Delivery, 'apiLink' | 'verifyLink'>>): Delivery {
  const presign = (target: StoredDownload, ttlSeconds: number) => buckets[target.bucket].presignGet(target.key, ttlSeconds, target.headers);
  return {
    downloadLink: presign,
    redirectFor: presign,
    verifyLink: ownLinks?.verifyLink ?? (() => false),
    ...(ownLinks ? { apiLink: ownLinks.apiLink } : {}),
    uploadTarget: (upload, ttlSeconds) =>
      buckets.input.presignPut(upload.key, ttlSeconds, { contentType: upload.contentType, metadata: upload.metadata, size: upload.size }),
    acceptUpload: () => undefined,
  };
}
