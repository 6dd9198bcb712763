import { Readable } from 'node:stream';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { FITS, MAX_SIDE } from '../../config/variants.js';
import { AppError } from '../../errors.js';
import { FORMATS, OUTPUT_FORMATS } from '../../formats/formats.js';
import { createImages, notFound } from '../../lifecycle/images.js';
import { createRenders, parseRenderName, renderName, resolveRender } from '../../lifecycle/renders.js';
import type { ObjectInfo } from '../../storage/object-store.js';
import type { AppDeps, AppEnv } from '../context.js';
import { DOWNLOAD_CACHE_CONTROL } from '../download-links.js';
import { contentDisposition } from '../download-names.js';
import { IdParams, ImageId, problemResponse } from '../schemas.js';
import { send } from './downloads.js';

const RenderRequest = z
  .object({
    width: z.number().int().min(1).max(MAX_SIDE),
    height: z.number().int().min(1).max(MAX_SIDE).optional().openapi({ description: 'Without it, as tall as the width makes it.' }),
    fit: z.enum(FITS).optional().openapi({ description: 'Default inside.' }),
    format: z.enum(OUTPUT_FORMATS).optional().openapi({ description: 'Default OUTPUT_FORMAT (WebP for auto).' }),
  })
  .openapi('RenderRequest');

const RenderLink = z
  .object({ url: z.string().openapi({ description: 'A signed link to the render, made on first request; works without the API key until it expires.' }) })
  .openapi('RenderLink');

const createRender = createRoute({
  operationId: 'createRender',
  method: 'post',
  path: '/v1/images/{id}/renders',
  summary: 'A signed link to the image at another size',
  request: { params: IdParams, body: { required: true, content: { 'application/json': { schema: RenderRequest } } } },
  responses: {
    201: { description: 'The link.', content: { 'application/json': { schema: RenderLink } } },
    404: problemResponse('No such image.'),
    422: problemResponse('A width outside ONDEMAND_WIDTHS, or more pixels than ONDEMAND_MAX_PIXELS.'),
    501: problemResponse('This deployment cannot sign links of its own.'),
  },
});

const getRender = createRoute({
  operationId: 'getRender',
  method: 'get',
  // Not under /v1/images/{id}: on AWS this is API Gateway's one keyless API resource, and a resource
  // of its own there would shadow the greedy proxy that every other /v1/images path takes.
  path: '/v1/renders/{id}/{name}',
  summary: 'An on-demand render (the link from POST /v1/images/{id}/renders)',
  request: {
    params: z.object({ id: ImageId, name: z.string().openapi({ param: { name: 'name', in: 'path' }, example: `w640-h${MAX_SIDE}-inside.webp` }) }),
    query: z.object({ exp: z.string().optional(), sig: z.string().optional() }),
  },
  responses: {
    200: { description: 'The render.', content: { 'image/*': { schema: { type: 'string', format: 'binary' } } } },
    302: { description: 'Where the render is stored (on AWS).' },
    403: problemResponse('The link is not valid (changed, or expired).'),
    404: problemResponse('No such image (any more).'),
    422: problemResponse('The original cannot be rendered.'),
  },
});

/** A signed link to a render of `original`, or undefined where this deployment signs no links of its own. */
export function renderUrl(c: Context, deps: AppDeps, id: string, original: ObjectInfo, ask: Parameters<typeof resolveRender>[2]): string | undefined {
  if (!deps.delivery.apiLink) return undefined;
  const name = renderName(resolveRender(deps.config, original, ask));
  deps.prepareRenders?.();
  return deps.delivery.apiLink(new URL(c.req.url).origin, `/v1/renders/${id}/${name}`, {}, deps.config.signedUrlTtlSeconds);
}

/**
 * On-demand sizes: `POST .../renders` mints a signed link with every parameter in its path; the
 * first GET renders from the original (or its intermediate: lifecycle/renders.ts) and stores the
 * result beside the variants, later ones read it.
 */
export function registerRenderRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const { delivery, config } = deps;
  const images = createImages(deps);
  const renders = createRenders({ input: deps.input, output: deps.output, config, ...(deps.renderOnDemand ? { render: deps.renderOnDemand } : {}), ...(deps.borrowRenderSlot ? { borrowSlot: deps.borrowRenderSlot } : {}) });

  app.openapi(createRender, async (c) => {
    const { id } = c.req.valid('param');
    const url = renderUrl(c, deps, id, await images.findOriginal(id, c.get('owner')), c.req.valid('json'));
    if (!url) throw new AppError(501, 'not_supported', 'On-demand renders need links this deployment can sign; it has none.');
    return c.json({ url }, 201);
  });

  app.openapi(getRender, async (c) => {
    const { id, name } = c.req.valid('param');
    // Only a signed link comes here: the signature covers the path, so no parameter can be changed.
    if (!delivery.verifyLink(new URL(c.req.url))) throw new AppError(403, 'invalid_signature', 'This link is not valid or has expired; ask POST /v1/images/{id}/renders for a new one.');
    const spec = parseRenderName(name);
    if (!spec) throw notFound(id);
    const stored = await renders.stored(id, spec);
    const headers = { contentType: FORMATS[spec.format].mime, contentDisposition: contentDisposition('inline', `${id}-${name}`), cacheControl: DOWNLOAD_CACHE_CONTROL };
    const elsewhere = await delivery.redirectFor({ bucket: 'output', key: stored.info.key, headers }, config.signedUrlTtlSeconds);
    if (elsewhere) return c.redirect(elsewhere, 302);
    // Made by this request: answered from memory, whatever happens to the stored copy meanwhile.
    if (stored.data) return send(c, { ...stored.info, body: Readable.from([stored.data]) }, headers.contentType, headers.contentDisposition);
    const object = await images.open('output', stored.info.key);
    if (!object) throw notFound(id);
    return send(c, object, headers.contentType, headers.contentDisposition);
  });
}
