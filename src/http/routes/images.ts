import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { waitForEnd } from '../../lifecycle/wait-for-end.js';
import type { Context } from 'hono';
import { AppError, isAppError } from '../../errors.js';
import { formatBytes } from '../../human-sizes.js';
import { createImages, notFound, type FoundImage } from '../../lifecycle/images.js';
import { ingestOriginal } from '../../lifecycle/ingest.js';
import { stageClock } from '../../processing/stage-clock.js';
import { newId } from '../../processing/keys.js';
import { createIdempotency } from '../../lifecycle/idempotency.js';
import type { AppConfig, AppDeps, AppEnv } from '../context.js';
import { imageLinker } from '../download-links.js';
import { toImageView } from '../image-view.js';
import { callerOf, queueFull, type CallerShares } from '../overload.js';
import { checkDeclaredLength, spoolBody, tooLarge } from '../spool.js';
import { Accepted, Current, IdParams, Image, ImageList, ImageQuery, ListQuery, problemResponse, ReprocessQuery, UploadQuery } from '../schemas.js';
import { renderUrl } from './renders.js';

/** Room for multipart boundaries and headers on top of the file itself. */
const MULTIPART_OVERHEAD = 64 * 1024;

const uploadImage = createRoute({
  operationId: 'uploadImage',
  method: 'post',
  path: '/v1/images',
  summary: 'Upload one image',
  description: 'A raw body (image/* or application/octet-stream) or multipart/form-data with the field `file`. The bytes decide whether it is an image.',
  request: {
    query: UploadQuery,
    headers: z.object({
      'idempotency-key': z.string().max(255).optional().openapi({ description: 'A retry with the same key gets the first answer back instead of a second image (24 hours).' }),
    }),
    body: {
      required: true,
      content: {
        'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
        'image/*': { schema: { type: 'string', format: 'binary' } },
        'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } }, required: ['file'] } },
      },
    },
  },
  responses: {
    202: { description: 'Accepted; processing starts now.', content: { 'application/json': { schema: Accepted } } },
    400: problemResponse('Empty or malformed upload.'),
    401: problemResponse('Missing or wrong API key.'),
    413: problemResponse('Larger than MAX_UPLOAD_BYTES.'),
    415: problemResponse('Not a supported image.'),
    422: problemResponse('Unreadable header, or over MAX_INPUT_PIXELS.'),
  },
});

const getImage = createRoute({
  operationId: 'getImage',
  method: 'get',
  path: '/v1/images/{id}',
  summary: 'Status and variants of one image (with ?wait=N, once it is done or failed)',
  request: { params: IdParams, query: ImageQuery },
  responses: {
    200: { description: 'The image.', content: { 'application/json': { schema: Image } } },
    404: problemResponse('No such image.'),
    422: problemResponse('A width of `renderWidths` this server does not render.'),
  },
});

const listRoute = createRoute({
  operationId: 'listImages',
  method: 'get',
  path: '/v1/images',
  summary: 'Images, newest first',
  request: { query: ListQuery },
  responses: {
    200: { description: 'A page of images.', content: { 'application/json': { schema: ImageList } } },
    400: problemResponse('Bad limit or cursor.'),
  },
});

const reprocessRoute = createRoute({
  operationId: 'reprocessImage',
  method: 'post',
  path: '/v1/images/{id}/reprocess',
  summary: 'Process an image again (after a failure, or a change of VARIANTS)',
  request: { params: IdParams, query: ReprocessQuery },
  responses: {
    200: { description: 'With `ifStale`: already rendered with the current settings.', content: { 'application/json': { schema: Current } } },
    202: { description: 'Queued.', content: { 'application/json': { schema: Accepted } } },
    404: problemResponse('No such image.'),
  },
});

const deleteRoute = createRoute({
  operationId: 'deleteImage',
  method: 'delete',
  path: '/v1/images/{id}',
  summary: 'Delete an image: its original and every output',
  request: { params: IdParams },
  responses: { 204: { description: 'Deleted.' }, 404: problemResponse('No such image.') },
});

/** Signed links to variants and originals, valid without the API key. */
const imageLinks = (c: Context, deps: AppDeps) => imageLinker(c, deps.delivery, deps.config.signedUrlTtlSeconds);

/**
 * The 413 of `POST /v1/images` when it takes less than a direct upload does (on Lambda, whose
 * request payload limit allows about 4.45 MiB): it names the way that takes the rest.
 */
function postTooLarge(config: AppConfig): AppError {
  if (config.maxPostBytes >= config.maxUploadBytes) return tooLarge(config.maxPostBytes);
  return new AppError(
    413,
    'too_large',
    `POST /v1/images takes at most ${formatBytes(config.maxPostBytes)} here; for files up to ${formatBytes(config.maxUploadBytes)} ask POST /v1/uploads for a direct upload URL.`,
  );
}

export function registerImageRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps, shares: CallerShares): void {
  const { input, config } = deps;
  const images = createImages(deps);

  const idempotent = createIdempotency(input, deps.now);

  app.openapi(uploadImage, async (c) => {
    const query = c.req.valid('query');
    const owner = c.get('owner')?.id;
    const contentType = c.req.header('content-type') ?? 'application/octet-stream';
    const multipart = /^multipart\/form-data/i.test(contentType);
    const refusal = postTooLarge(config);
    checkDeclaredLength(c, config.maxPostBytes, multipart ? MULTIPART_OVERHEAD : 0, refusal);
    const key = c.req.header('idempotency-key');
    const limits = { limit: config.maxPostBytes, idleMs: config.uploadIdleTimeoutMs, minBytesPerSecond: config.minUploadBytesPerSecond, hash: key !== undefined };
    const spool = () =>
      spoolBody(c, contentType, deps.spoolDir, limits).catch((error: unknown) => {
        throw isAppError(error) && error.code === 'too_large' ? refusal : error;
      });
    const upload = async (idempotencyRecord?: string) => {
      const id = newId();
      const clock = stageClock();
      const file = await spool();
      clock.lap('receive');
      const body = file.sha256 ?? '';
      await ingestOriginal(input, config, {
        id,
        marksPending: deps.marksPending !== false,
        listsEveryImage: deps.listsEveryImage !== false,
        file,
        ...(owner ? { owner } : {}),
        ...(query.filename ? { filename: query.filename } : {}),
        ...(query.watermark !== undefined ? { watermark: query.watermark } : {}),
        ...(idempotencyRecord ? { idempotencyRecord } : {}),
      });
      clock.lap('store');
      c.set('stages', clock.stages);
      deps.metrics.uploads.inc();
      return { id, body };
    };
    // A retry's file is read only to be compared with the first one's.
    const bodyOf = async () => {
      const file = await spool();
      await file.discard();
      return file.sha256 ?? '';
    };
    const { id, replayed } = key ? await idempotent(owner, key, upload, bodyOf) : { id: (await upload()).id, replayed: false };
    const self = `/v1/images/${id}`;
    const headers: Record<string, string> = replayed ? { Location: self, 'Idempotent-Replayed': 'true' } : { Location: self };
    return c.json({ id, status: 'pending' as const, links: { self } }, 202, headers);
  });

  app.openapi(listRoute, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const { records, nextCursor } = await images.list({ limit, cursor, owner: c.get('owner') });
    const link = imageLinks(c, deps);
    const items = await Promise.all(records.map((record) => toImageView(record, link, deps.isProcessing)));
    return c.json({ items, ...(nextCursor ? { nextCursor } : {}) }, 200);
  });

  app.openapi(getImage, async (c) => {
    const { id } = c.req.valid('param');
    const { renderWidths, wait } = c.req.valid('query');
    let found: FoundImage | undefined;
    const find = async () => (found = found ? await images.findAgain(found, c.get('owner')) : await images.find(id, c.get('owner')));
    const record = wait
      ? await waitForEnd(find, id, { until: Date.now() + wait * 1000, ...(deps.whenProcessed ? { ended: deps.whenProcessed } : {}), signal: c.req.raw.signal })
      : await find();
    const view = await toImageView(record, imageLinks(c, deps), deps.isProcessing);
    // Links for a srcset, minted as POST .../renders would: only where this deployment signs its own links.
    const renders = renderWidths && deps.delivery.apiLink ? renderWidths.map((width) => ({ width, url: renderUrl(c, deps, id, record.original, { width })! })) : undefined;
    return c.json({ ...view, ...(renders ? { renders } : {}) }, 200);
  });

  app.openapi(reprocessRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { ifStale } = c.req.valid('query');
    const links = { self: `/v1/images/${id}` };
    // A reprocess is new work in the queue, and part of its caller's share until it is done.
    if (deps.queueDepth && deps.queueDepth() >= config.maxQueueDepth) throw queueFull();
    const release = shares.take(callerOf(c), 'uploads or reprocesses');
    try {
      if (!(await images.reprocess(id, c.get('owner'), { ifStale: ifStale ?? false }))) {
        release();
        return c.json({ id, status: 'current' as const, links }, 200);
      }
    } catch (error) {
      release();
      throw error;
    }
    // Where this process runs the work it is followed to its end; elsewhere (an S3 event) it is not ours to hold.
    if (deps.whenProcessed) void deps.whenProcessed(id).finally(release);
    else release();
    return c.json({ id, status: 'pending' as const, links }, 202);
  });

  app.openapi(deleteRoute, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await images.remove(id, c.get('owner')))) throw notFound(id);
    return c.body(null, 204);
  });
}
