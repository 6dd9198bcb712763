/**
 * How bytes reach a browser without the API key, and how a browser sends a large original: the
 * port each runtime fills. Locally (http/signed-delivery.ts) the links and upload URLs are this
 * server's own, HMAC-signed; on AWS (storage/store-delivery.ts) they are the store's own presigned
 * URLs, so no image passes through API Gateway or Lambda. Routes call the port; none asks which runtime it is.
 */
export interface Delivery {
  /** A link to a stored object that works without the API key for about `ttlSeconds`. */
  downloadLink(target: DownloadTarget, ttlSeconds: number): Promise<string>;
  /** Where a download is sent instead of being streamed by this server (a presigned GET), if anywhere. */
  redirectFor(target: StoredDownload, ttlSeconds: number): Promise<string | undefined>;
  /** True when a signed download link of this API is valid now. */
  verifyLink(url: URL): boolean;
  /**
   * A link to a route of this API itself (an on-demand render, made when first asked for), signed
   * so that it works without the API key; absent where this runtime holds no signing secret.
   */
  apiLink?(origin: string, path: string, params: Record<string, string>, ttlSeconds: number): string;
  /** Where a browser PUTs a new original, with the headers it must send. */
  uploadTarget(upload: UploadTarget, ttlSeconds: number): Promise<{ url: string; headers: Record<string, string> }>;
  /** What a PUT to an upload URL of this API was signed for; undefined when it is not one, or has expired. */
  acceptUpload(url: URL): (SignedUpload & { expiresAt: number }) | undefined;
}

/** The headers a download carries, wherever it is served from. */
export interface DownloadHeaders {
  contentType: string;
  contentDisposition: string;
  cacheControl: string;
}

/** A stored object to download: where it lives, and how it is served. */
export interface StoredDownload {
  bucket: 'input' | 'output';
  key: string;
  headers: DownloadHeaders;
}

/** A download as this API names it too (`origin` + `path`?`params`), for a link of the server's own. */
export interface DownloadTarget extends StoredDownload {
  origin: string;
  path: string;
  params: Record<string, string>;
}

/** What an upload URL is signed for. */
export interface SignedUpload {
  contentType: string;
  size: number;
  filename?: string;
  watermark?: boolean;
  /** The uploader's owner id; never readable from the URL. */
  owner?: string;
}

/** An upload to sign: what it is for, and where it is stored (`key`, with `metadata`). */
export interface UploadTarget extends SignedUpload {
  origin: string;
  id: string;
  key: string;
  metadata: Record<string, string>;
}
