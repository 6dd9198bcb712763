import { z } from '@hono/zod-openapi';
import { MAX_SIDE } from '../config/variants.js';
import { INPUT_FORMATS, OUTPUT_FORMATS } from '../formats/formats.js';
import { ID_PATTERN } from '../processing/keys.js';
import { STATUSES } from '../processing/manifest.js';

/** The shapes the API validates and answers with; `/openapi.json` is generated from these same schemas. */

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().openapi({ example: 'unsupported_format' }),
  })
  .openapi('Problem');

export const ImageId = z.string().regex(ID_PATTERN).openapi({ param: { name: 'id', in: 'path' }, example: '0193c1c4-7d2a-7c55-9a51-2f4c3b1e8d90' });

export const VariantName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/).openapi({ param: { name: 'name', in: 'path' }, example: 'thumbnail' });

export const IdParams = z.object({ id: ImageId });
export const VariantParams = z.object({ id: ImageId, name: VariantName });

const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

export const UploadQuery = z.object({
  watermark: booleanQuery.optional().openapi({ description: 'Overrides the server default (on when WATERMARK_TEXT is set).' }),
  filename: z.string().max(255).optional().openapi({ description: 'The file name for a raw upload; multipart uploads carry their own.' }),
});

export const Status = z.enum(STATUSES);

const StoredVariant = z.object({
  name: z.string(),
  format: z.enum(OUTPUT_FORMATS),
  width: z.number().int(),
  height: z.number().int(),
  bytes: z.number().int(),
});

const ImageFields = z.object({
  id: z.string(),
  status: Status,
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  original: z.object({
    format: z.enum(INPUT_FORMATS).optional(),
    width: z.number().int().optional(),
    height: z.number().int().optional(),
    bytes: z.number().int(),
    filename: z.string().optional(),
  }),
  variants: z.array(StoredVariant),
  placeholder: z
    .object({
      thumbhash: z.string().openapi({ description: 'ThumbHash of the image, base64.' }),
      dominantColor: z.string().openapi({ example: '#4a7ab8' }),
    })
    .optional()
    .openapi({ description: 'On done images: what to show while a preview loads.' }),
  createdAt: z.string(),
  completedAt: z.string().optional(),
});

export const Image = ImageFields.extend({
  originalUrl: z.string().openapi({ description: 'A signed link to the original as uploaded (GET /v1/images/{id}/original), good without the API key until it expires.' }),
  variants: z.array(StoredVariant.extend({ url: z.string().openapi({ description: 'A signed link that works without the API key until it expires.' }) })),
  renders: z
    .array(z.object({ width: z.number().int(), url: z.string() }))
    .optional()
    .openapi({ description: 'With `?renderWidths=`: a signed on-demand render link per width, for a srcset.' }),
}).openapi('Image');

/** The longest `?wait=`: with a read and an answer, well inside API Gateway's 29 s on AWS. */
export const MAX_WAIT_SECONDS = 20;

export const ImageQuery = z.object({
  renderWidths: z
    .string()
    .regex(/^\d{1,5}(,\d{1,5}){0,15}$/)
    .transform((text) => text.split(',').map(Number))
    .refine((widths) => widths.every((width) => width >= 1 && width <= MAX_SIDE), { error: `widths from 1 to ${MAX_SIDE}` })
    .optional()
    .openapi({ description: 'Comma-separated widths: the answer carries a render link for each (`renders`).', example: '320,640,1280' }),
  wait: z
    .string()
    .regex(/^\d{1,2}$/)
    .transform(Number)
    .refine((seconds) => seconds <= MAX_WAIT_SECONDS, { error: `at most ${MAX_WAIT_SECONDS} seconds` })
    .optional()
    .openapi({
      description: `Seconds (up to ${MAX_WAIT_SECONDS}) to wait for the image to be done or failed: the answer comes within a second of it, or with the image as it is when they run out. Instead of polling.`,
      example: '20',
    }),
});

/** The body of a webhook delivery: the image as the API shows it, without links (fetch `GET /v1/images/{id}` for fresh ones). */
export const WebhookEvent = z
  .object({
    event: z.enum(['image.done', 'image.failed']),
    image: ImageFields.extend({ status: z.enum(['done', 'failed']) }),
  })
  .openapi('WebhookEvent', { description: 'POSTed to WEBHOOK_URL when an image reaches done or failed, signed with `X-Signature-256: sha256=<hex HMAC-SHA256 of the body under WEBHOOK_SECRET>`.' });

export const Accepted = z
  .object({ id: z.string(), status: z.literal('pending'), links: z.object({ self: z.string() }) })
  .openapi('Accepted');

export const ReprocessQuery = z.object({
  ifStale: booleanQuery.optional().openapi({ description: 'Only when the image did not already end with the current settings (what `image-processor reprocess --all` asks).' }),
});

export const Current = z
  .object({ id: z.string(), status: z.literal('current'), links: z.object({ self: z.string() }) })
  .openapi('Current', { description: 'The image already ended with the current settings: nothing to do.' });

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

export const ImageList = z.object({ items: z.array(Image), nextCursor: z.string().optional() }).openapi('ImageList');

export const UploadRequest = z
  .object({
    contentType: z.string().max(100).openapi({ example: 'image/jpeg' }),
    size: z.number().int().min(1).openapi({ example: 4_200_000 }),
    filename: z.string().max(255).optional(),
    watermark: z.boolean().optional(),
  })
  .openapi('UploadRequest');

export const UploadTicket = z
  .object({
    id: z.string(),
    upload: z.object({
      url: z.string(),
      method: z.literal('PUT'),
      headers: z.record(z.string(), z.string()),
      expiresAt: z.string(),
    }),
  })
  .openapi('UploadTicket');


export const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: Problem } },
});
