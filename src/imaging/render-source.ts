import { readFile } from 'node:fs/promises';
import { AppError } from '../errors.js';

/** What a render is made from: the original's bytes, or the file that holds them on this machine. */
export type RenderSource = Buffer | { path: string };

/** The original's bytes: as given, or read from its file (gone means the image was deleted meanwhile). */
export async function sourceBytes(source: RenderSource): Promise<Buffer> {
  if (Buffer.isBuffer(source)) return source;
  try {
    return await readFile(source.path);
  } catch {
    throw new AppError(404, 'not_found', 'The image is gone.');
  }
}
