import { Readable } from 'node:stream';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../errors.js';
import { fromObjectMetadata } from '../../processing/original-metadata.js';
import { FORMATS, OUTPUT_FORMATS } from '../../formats/formats.js';
import type { StoredObject } from '../../storage/object-store.js';
import { createImages, notFound } from '../../lifecycle/images.js';
import type { AppDeps, AppEnv } from '../context.js';
import { chooseFormat, DOWNLOAD_CACHE_CONTROL, originalHeaders, variantHeaders } from '../download-links.js';
import { IdParams, problemResponse, VariantParams } from '../schemas.js';

const binary = (description: string) => ({
  description,
  content: { 'image/*': { schema: { type: 'string' as const, format: 'binary' } } },
});

const signedQuery = z.object({
  exp: z.string().optional().openapi({ description: 'Expiry of a signed link (from the `url` of a variant).' }),
  sig: z.string().optional().openapi({ description: 'Signature of a signed link; with it no API key is needed.' }),
});

const downloadVariant = createRoute({
  operationId: 'downloadVariant',
  method: 'get',
  path: '/v1/images/{id}/variants/{name}',
  summary: 'Download one processed variant',
  description: `With OUTPUT_FORMATS, the format follows \`Accept\` (${OUTPUT_FORMATS.map((f) => FORMATS[f].label).join(', then ')}), or \`?format=\`.`,
  request: {
    params: VariantParams,
    query: signedQuery.extend({ format: z.enum(OUTPUT_FORMATS).optional().openapi({ description: 'One format of the variant, instead of choosing by Accept.' }) }),
  },
  responses: {
    200: binary('The variant (served locally).'),
    302: { description: 'On AWS: a redirect to a presigned S3 URL that answers with the same headers.' },
    304: { description: 'Not modified (If-None-Match).' },
    403: problemResponse('A signed link that is not valid or has expired.'),
    404: problemResponse('No such image or variant, or not processed yet.'),
  },
});

const downloadOriginal = createRoute({
  operationId: 'downloadOriginal',
  method: 'get',
  path: '/v1/images/{id}/original',
  summary: 'Download the original as uploaded',
  request: { params: IdParams, query: signedQuery },
  responses: {
    200: binary('The original (served locally).'),
    302: { description: 'On AWS: a redirect to a presigned S3 URL.' },
    304: { description: 'Not modified (If-None-Match).' },
    403: problemResponse('A signed link that is not valid or has expired.'),
    404: problemResponse('No such image.'),
  },
});

/** Downloads take either the API key or a valid signature, so `<img src>` works without the key. */
export function isSignedDownload(method: string, path: string, hasSignature: boolean): boolean {
  return hasSignature && (method === 'GET' || method === 'HEAD') && (/^\/v1\/images\/[^/]+\/(variants\/[^/]+|original)$/.test(path) || /^\/v1\/renders\/[^/]+\/[^/]+$/.test(path));
}

export function registerDownloadRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const { delivery } = deps;
  const images = createImages(deps);
  const ttl = deps.config.signedUrlTtlSeconds;

  /**
   * The API-key middleware let a request with a signature through; here the signature is checked.
   * A link was signed for the image's owner, so a valid one needs no owner check.
   */
  async function authorize(c: Context<AppEnv>, id: string) {
    const url = new URL(c.req.url);
    if (!url.searchParams.has('sig')) {
      await images.findOriginal(id, c.get('owner'));
      return;
    }
    if (!delivery.verifyLink(url)) {
      throw new AppError(403, 'invalid_signature', 'This link is not valid or has expired; fetch the image again for a fresh one.');
    }
  }

  app.openapi(downloadVariant, async (c) => {
    const { id, name } = c.req.valid('param');
    const { format } = c.req.valid('query');
    await authorize(c, id);
    const { manifest, entries } = await images.doneVariants(id, name);
    const variant = chooseFormat(entries, c.req.header('accept'), format);
    if (!manifest || !variant) throw new AppError(404, 'not_found', `Image ${id} has no variant "${name}"${format ? ` in ${format}` : ''} (yet).`);
    // The same URL answers with different bytes for different Accept headers: caches must know.
    const variesByAccept = entries.length > 1 && !format;
    if (variesByAccept) c.header('vary', 'Accept');
    const headers = variantHeaders(manifest, variant);
    const elsewhere = await delivery.redirectFor({ bucket: 'output', key: variant.key, headers }, ttl);
    if (elsewhere) return c.redirect(elsewhere, 302);
    const object = await images.open('output', variant.key);
    if (!object) throw new AppError(404, 'not_found', `Image ${id} has no variant "${name}" (yet).`);
    const response = send(c, object, headers.contentType, headers.contentDisposition);
    // A Response of our own does not carry the context's headers.
    if (variesByAccept) response.headers.set('vary', 'Accept');
    return response;
  });

  app.openapi(downloadOriginal, async (c) => {
    const { id } = c.req.valid('param');
    await authorize(c, id);
    const info = await images.original(id);
    if (!info) throw notFound(id);
    const headers = originalHeaders(id, fromObjectMetadata(info.metadata).filename, await images.originalFormat(id, info));
    const elsewhere = await delivery.redirectFor({ bucket: 'input', key: info.key, headers }, ttl);
    if (elsewhere) return c.redirect(elsewhere, 302);
    const object = await images.open('input', info.key);
    if (!object) throw notFound(id);
    return send(c, object, headers.contentType, headers.contentDisposition);
  });
}

/** Streams a stored object with the headers a download needs; answers 304 to a matching If-None-Match. */
export function send(c: Context, object: StoredObject, contentType: string, disposition: string): Response {
  const headers: Record<string, string> = {
    'content-type': contentType,
    etag: object.etag,
    'cache-control': DOWNLOAD_CACHE_CONTROL,
    'content-disposition': disposition,
    'x-content-type-options': 'nosniff',
    // Should a browser ever render a download as a document, it gets no scripts and no origin.
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'; sandbox",
    'last-modified': object.lastModified.toUTCString(),
  };
  const matches = c.req.header('if-none-match')?.split(',').some((tag) => tag.trim() === object.etag || tag.trim() === '*');
  if (matches || c.req.method === 'HEAD') {
    object.body.destroy();
    if (matches) return new Response(null, { status: 304, headers });
    return new Response(null, { status: 200, headers: { ...headers, 'content-length': String(object.size) } });
  }
  headers['content-length'] = String(object.size);
  return new Response(Readable.toWeb(object.body) as ReadableStream, { status: 200, headers });
}
