import type { z } from '@hono/zod-openapi';
import { AppError } from '../errors.js';
import { idFromOriginalKey, isValidId, originalKey, ORIGINALS_PREFIX } from '../processing/keys.js';
import { readManifest, type Manifest } from '../processing/manifest.js';
import { fromObjectMetadata } from '../processing/original-metadata.js';
import type { ListedObject, ObjectInfo, ObjectStore } from '../storage/object-store.js';
import { owns, type Owner } from './auth.js';
import type { VariantLink } from './delivery.js';
import type { Image } from './schemas.js';

export type ImageView = z.infer<typeof Image>;


/**
 * What the API says of one image, from its original and its manifest. No manifest, or one written
 * for older bytes, means the work has not started yet: `pending`.
 */
export async function toImageView(id: string, original: ObjectInfo, manifest: Manifest | undefined, link: VariantLink): Promise<ImageView> {
  const current = manifest && manifest.sourceEtag === original.etag ? manifest : undefined;
  const meta = fromObjectMetadata(original.metadata);
  const originalInfo = current?.original ?? {
    bytes: original.size,
    ...(meta.format ? { format: meta.format } : {}),
    ...(meta.width ? { width: meta.width, height: meta.height } : {}),
    ...(meta.filename ? { filename: meta.filename } : {}),
  };
  return {
    id,
    status: current?.status ?? 'pending',
    ...(current?.error ? { error: current.error } : {}),
    original: originalInfo,
    variants:
      current?.status === 'done'
        ? await Promise.all(
            current.variants.map(async (variant) => {
              const { name, format, width, height, bytes } = variant;
              return { name, format, width, height, bytes, url: await link(current, variant) };
            }),
          )
        : [],
    ...(current?.status === 'done' && current.placeholder ? { placeholder: current.placeholder } : {}),
    createdAt: current?.createdAt ?? original.lastModified.toISOString(),
    ...(current?.completedAt ? { completedAt: current.completedAt } : {}),
  };
}

/**
 * Each API key sees the images it uploaded; images without an owner (uploaded with auth off, or
 * written by another tool) are shared. `owner` undefined means auth is off: everything is visible.
 */
export const visibleTo = (original: ObjectInfo, owner: Owner | undefined) =>
  owner === undefined || !original.metadata.owner || owns(owner, original.metadata.owner);

/** The original of an image the caller may see, or a 404 that does not say whether it exists. */
export async function findOriginal(input: ObjectStore, id: string, owner: Owner | undefined): Promise<ObjectInfo> {
  const original = await input.head(originalKey(id));
  if (!original || !visibleTo(original, owner)) throw notFound(id);
  return original;
}

export async function describeImage(input: ObjectStore, output: ObjectStore, id: string, link: VariantLink, owner: Owner | undefined): Promise<ImageView> {
  const original = await findOriginal(input, id, owner);
  return toImageView(id, original, await readManifest(output, id), link);
}

export const notFound = (id: string) => new AppError(404, 'not_found', `There is no image ${id}.`);

interface Position {
  t: number;
  k: string;
}

/** Newest first, by upload time then key; the cursor is the position of the last item served. */
export async function listImages(
  input: ObjectStore,
  output: ObjectStore,
  { limit, cursor, owner }: { limit: number; cursor?: string | undefined; owner: Owner | undefined },
  link: VariantLink,
): Promise<{ items: ImageView[]; nextCursor?: string }> {
  const after = cursor ? decodeCursor(cursor) : undefined;
  const all: ListedObject[] = [];
  for await (const object of input.list(ORIGINALS_PREFIX)) {
    const id = idFromOriginalKey(object.key);
    if (id && isValidId(id)) all.push(object);
  }
  all.sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime() || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
  const start = after ? all.findIndex((o) => isAfter(o, after)) : 0;
  const candidates = start < 0 ? [] : all.slice(start);

  const items: ImageView[] = [];
  let last: ListedObject | undefined;
  let index = 0;
  for (; index < candidates.length && items.length < limit; index++) {
    const object = candidates[index]!;
    const id = idFromOriginalKey(object.key)!;
    const original = await input.head(object.key);
    last = object;
    if (!original || !visibleTo(original, owner)) continue;
    items.push(await toImageView(id, original, await readManifest(output, id), link));
  }
  const more = index < candidates.length;
  return { items, ...(more && last ? { nextCursor: encodeCursor({ t: last.lastModified.getTime(), k: last.key }) } : {}) };
}

/** True when `object` comes after `position` in newest-first order. */
const isAfter = (object: ListedObject, position: Position) => {
  const t = object.lastModified.getTime();
  return t < position.t || (t === position.t && object.key < position.k);
};

const encodeCursor = (position: Position) => Buffer.from(JSON.stringify(position)).toString('base64url');

function decodeCursor(cursor: string): Position {
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Position;
    if (typeof position.t === 'number' && typeof position.k === 'string') return position;
  } catch {
    // fall through to the 400 below
  }
  throw new AppError(400, 'invalid_cursor', 'The cursor is not one this API gave out.');
}
