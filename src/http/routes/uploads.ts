import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '../../errors.js';
import { FORMATS, uploadTypes } from '../../formats/formats.js';
import { notAccepted } from '../../formats/not-accepted.js';
import { overLimit } from '../../human-sizes.js';
import { isValidId, newId, originalKey } from '../../processing/keys.js';
import { toObjectMetadata } from '../../processing/original-metadata.js';
import { cleanFilename } from '../../lifecycle/clean-filename.js';
import type { AppDeps, AppEnv } from '../context.js';
import { createImages } from '../../lifecycle/images.js';
import { ingestOriginal } from '../../lifecycle/ingest.js';
import { Accepted, ImageId, problemResponse, UploadRequest, UploadTicket } from '../schemas.js';
import { checkDeclaredLength, spoolBody } from '../spool.js';
import { createUploadClaims } from '../upload-claims.js';

/** How long a direct-upload URL stays valid. */
export const UPLOAD_URL_TTL_SECONDS = 15 * 60;

const createTicket = createRoute({
  operationId: 'createUpload',
  method: 'post',
  path: '/v1/uploads',
  summary: 'Ask for a direct upload URL',
  description: 'For large files: PUT the bytes to `upload.url` with exactly `upload.headers`; processing starts when they arrive.',
  request: { body: { required: true, content: { 'application/json': { schema: UploadRequest } } } },
  responses: {
    201: { description: 'Where to PUT the file.', content: { 'application/json': { schema: UploadTicket } } },
    400: problemResponse('Malformed request.'),
    401: problemResponse('Missing or wrong API key.'),
    413: problemResponse('The declared size is over MAX_UPLOAD_BYTES.'),
    415: problemResponse('The declared type is not a supported image.'),
  },
});

const putUpload = createRoute({
  operationId: 'putUpload',
  method: 'put',
  path: '/v1/uploads/{id}',
  summary: 'The direct upload target (a signed URL from POST /v1/uploads)',
  request: {
    params: z.object({ id: ImageId }),
    body: { required: true, content: { 'image/*': { schema: { type: 'string', format: 'binary' } } } },
  },
  responses: {
    200: { description: 'Stored; processing has started.', content: { 'application/json': { schema: Accepted } } },
    403: problemResponse('The URL is not valid, has expired, or the headers differ from the signed ones.'),
    409: problemResponse('This URL was already used.'),
    413: problemResponse('Larger than the declared size.'),
    415: problemResponse('Not a supported image.'),
    422: problemResponse('Unreadable header, or over MAX_INPUT_PIXELS.'),
  },
});

export function registerUploadRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const { config, delivery, input } = deps;
  const images = createImages(deps);
  const now = () => deps.now?.() ?? new Date();
  const allowedTypes = new Set([
    'application/octet-stream',
    ...uploadTypes(config),
  ]);

  app.openapi(createTicket, async (c) => {
    const request = c.req.valid('json');
    const contentType = request.contentType.toLowerCase();
    if (!allowedTypes.has(contentType)) throw notAccepted(contentType === FORMATS.svg.mime, config);
    if (request.size > config.maxUploadBytes) throw new AppError(413, 'too_large', overLimit(request.size, config.maxUploadBytes));
    const id = newId();
    const expiresAt = Math.floor(now().getTime() / 1000) + UPLOAD_URL_TTL_SECONDS;
    const filename = cleanFilename(request.filename);
    const owner = c.get('owner')?.id;
    const signed = {
      contentType,
      size: request.size,
      ...(filename ? { filename } : {}),
      ...(request.watermark !== undefined ? { watermark: request.watermark } : {}),
      ...(owner ? { owner } : {}),
    };
    // Wherever it goes (this server, or straight to the input bucket), the processor judges the bytes.
    const target = await delivery.uploadTarget(
      { ...signed, origin: new URL(c.req.url).origin, id, key: originalKey(id), metadata: toObjectMetadata(signed) },
      UPLOAD_URL_TTL_SECONDS,
    );
    return c.json({ id, upload: { ...target, method: 'PUT' as const, expiresAt: new Date(expiresAt * 1000).toISOString() } }, 201);
  });

  const claims = createUploadClaims(() => now().getTime());
  app.openapi(putUpload, async (c) => {
    const url = new URL(c.req.url);
    const id = c.req.param('id');
    // Only an upload URL this server signed comes here (on AWS they point at S3: none is valid here).
    const signed = isValidId(id) ? delivery.acceptUpload(url) : undefined;
    if (!signed) {
      throw new AppError(403, 'invalid_signature', 'This upload URL is not valid or has expired; ask POST /v1/uploads for a new one.');
    }
    if ((c.req.header('content-type') ?? '').toLowerCase() !== signed.contentType) {
      throw new AppError(403, 'signature_mismatch', `Send the header Content-Type: ${signed.contentType}, as the upload URL was signed for it.`);
    }
    const used = () => new AppError(409, 'already_uploaded', 'This upload URL was already used.');
    if (!claims.claim(id, signed.expiresAt)) throw used();
    try {
      if (await images.original(id)) throw used();
      const limit = Math.min(signed.size, config.maxUploadBytes);
      checkDeclaredLength(c, limit);
      const file = await spoolBody(c, 'application/octet-stream', deps.spoolDir, { limit, idleMs: config.uploadIdleTimeoutMs, minBytesPerSecond: config.minUploadBytesPerSecond });
      const { owner, filename, watermark } = signed;
      await ingestOriginal(input, config, {
        id,
        marksPending: deps.marksPending !== false,
        listsEveryImage: deps.listsEveryImage !== false,
        file,
        ...(owner ? { owner } : {}),
        ...(filename ? { filename } : {}),
        ...(watermark !== undefined ? { watermark } : {}),
      });
    } catch (error) {
      // Nothing was stored (or it was stored before, and stays claimed by that): the URL may be tried again.
      if (!(await images.original(id))) claims.release(id);
      throw error;
    }
    deps.metrics.uploads.inc();
    return c.json({ id, status: 'pending' as const, links: { self: `/v1/images/${id}` } }, 200);
  });
}
