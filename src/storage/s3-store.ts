import { Transform, type Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type GetObjectCommandOutput,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { ListedObject, ListOptions, ObjectCreatedSource, ObjectInfo, ObjectStore, PutOptions, Retrigger, SignedLinks, StoredObject } from './object-store.js';

export interface S3Settings {
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  /** The bucket has transfer acceleration on (AWS only). */
  accelerate?: boolean;
}

/**
 * One client per process. Checksums only when an operation requires them: with the SDK's defaults a
 * presigned PUT signs in the CRC32 of an empty body (real S3 then rejects every browser upload), and
 * streamed bodies go out aws-chunked, which some S3-compatible servers store verbatim.
 */
export function createS3Client(settings: S3Settings = {}, { accelerated = false } = {}): S3Client {
  return new S3Client({
    ...(settings.region ? { region: settings.region } : {}),
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle ?? false,
    ...(accelerated ? { useAccelerateEndpoint: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * The client that signs the URLs browsers use: through the transfer-acceleration endpoint
 * (`<bucket>.s3-accelerate.amazonaws.com`) when the bucket has it on, which a custom endpoint
 * (MinIO, s3rver) never has. Signing is local: no request is made.
 */
export function createPresignClient(settings: S3Settings = {}): S3Client {
  return createS3Client(settings, { accelerated: Boolean(settings.accelerate) && !settings.endpoint });
}

/** A bucket of S3 (or an S3-compatible server): it signs links and can announce an object again (a copy onto itself). */
export type S3Store = ObjectStore & ObjectCreatedSource & SignedLinks & Retrigger;

const MULTIPART_PART_BYTES = 8 * 1024 * 1024;

const isNotFound = (error: unknown) =>
  error instanceof S3ServiceException && (error.name === 'NotFound' || error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404);

/** What HEAD and GET both say of an object. */
function describe(key: string, out: HeadObjectCommandOutput | GetObjectCommandOutput): ObjectInfo {
  return {
    key,
    size: out.ContentLength ?? 0,
    lastModified: out.LastModified ?? new Date(0),
    etag: out.ETag ?? '',
    ...(out.ContentType ? { contentType: out.ContentType } : {}),
    metadata: out.Metadata ?? {},
  };
}

/**
 * A bucket on S3 or any S3-compatible server. Announces the objects it writes itself, like the fs
 * store. URLs for browsers are signed by `presigner` (see createPresignClient).
 */
export function createS3Store(client: S3Client, bucket: string, presigner: S3Client = client): S3Store {
  const listeners = new Set<(key: string) => void>();

  async function head(key: string): Promise<ObjectInfo | undefined> {
    try {
      return describe(key, await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  return {
    name: bucket,

    async put(key: string, body: Buffer | Readable, options: PutOptions = {}): Promise<ObjectInfo> {
      const common = {
        Bucket: bucket,
        Key: key,
        ...(options.contentType ? { ContentType: options.contentType } : {}),
        Metadata: options.metadata ?? {},
      };
      let size = 0;
      let etag: string | undefined;
      if (Buffer.isBuffer(body)) {
        size = body.length;
        etag = (await client.send(new PutObjectCommand({ ...common, Body: body, ContentLength: body.length }))).ETag;
      } else {
        // Loaded on first use: the processor Lambda never streams or presigns, and its cold start should not pay for it.
        const { Upload } = await import('@aws-sdk/lib-storage');
        // lib-storage sends small bodies in one PUT and large ones as a multipart upload, a part at a time.
        const counted = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            size += chunk.length;
            done(null, chunk);
          },
        });
        body.on('error', (error) => counted.destroy(error));
        body.pipe(counted);
        const upload = new Upload({ client, params: { ...common, Body: counted }, partSize: MULTIPART_PART_BYTES, queueSize: 2 });
        etag = (await upload.done()).ETag;
      }
      for (const listener of listeners) listener(key);
      return {
        key,
        size,
        lastModified: new Date(),
        etag: etag ?? '',
        ...(options.contentType ? { contentType: options.contentType } : {}),
        metadata: options.metadata ?? {},
      };
    },

    async get(key: string): Promise<StoredObject | undefined> {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { ...describe(key, out), body: out.Body as Readable };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    head,

    async *list(prefix: string, { startAfter, limit = Infinity }: ListOptions = {}): AsyncIterable<ListedObject> {
      let token: string | undefined;
      let listed = 0;
      do {
        // A page of what is still wanted: `limit` keys after `startAfter` cost one request (up to 1,000).
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            ...(token ? { ContinuationToken: token } : startAfter !== undefined ? { StartAfter: startAfter } : {}),
            ...(Number.isFinite(limit) ? { MaxKeys: Math.min(1000, limit - listed) } : {}),
          }),
        );
        for (const object of page.Contents ?? []) {
          if (!object.Key) continue;
          listed++;
          yield { key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
        }
        token = page.IsTruncated && listed < limit ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async *names(prefix: string): AsyncIterable<string> {
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ...(token ? { ContinuationToken: token } : {}) }));
        for (const object of page.Contents ?? []) if (object.Key) yield object.Key.slice(prefix.length);
        for (const common of page.CommonPrefixes ?? []) if (common.Prefix) yield common.Prefix.slice(prefix.length);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async delete(key: string): Promise<void> {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },

    onObjectCreated(listener: (key: string) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async presignGet(key, expiresIn, headers = {}) {
      const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(headers.contentType ? { ResponseContentType: headers.contentType } : {}),
        ...(headers.contentDisposition ? { ResponseContentDisposition: headers.contentDisposition } : {}),
        ...(headers.cacheControl ? { ResponseCacheControl: headers.cacheControl } : {}),
      });
      return getSignedUrl(presigner, command, { expiresIn });
    },

    async retrigger(key, metadata) {
      const info = await head(key);
      if (!info) return;
      // S3 refuses a copy onto itself that changes nothing; replacing the metadata with itself counts.
      await client.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          // URL-encoded as S3 wants, a segment at a time: some S3-compatible servers take %2F literally.
          CopySource: `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
          MetadataDirective: 'REPLACE',
          Metadata: metadata ?? info.metadata,
          ...(info.contentType ? { ContentType: info.contentType } : {}),
        }),
      );
    },

    async presignPut(key, expiresIn, options) {
      const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
      const metadata = options.metadata ?? {};
      const command = new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(options.contentType ? { ContentType: options.contentType } : {}),
        ContentLength: options.size,
        Metadata: metadata,
      });
      // Metadata and type are signed headers, so the client must send them exactly; nothing else is added.
      const headers: Record<string, string> = {
        ...(options.contentType ? { 'Content-Type': options.contentType } : {}),
        ...Object.fromEntries(Object.entries(metadata).map(([name, value]) => [`x-amz-meta-${name}`, value])),
      };
      // The length is signed too, but not handed back: every HTTP client sends it, and a browser may not set it.
      const url = await getSignedUrl(presigner, command, {
        expiresIn,
        signableHeaders: new Set(['content-length', ...Object.keys(headers).map((name) => name.toLowerCase())]),
        unhoistableHeaders: new Set(Object.keys(headers).filter((name) => name.startsWith('x-amz-meta-'))),
      });
      return { url, headers };
    },
  };
}
