import sharp, { type Sharp } from 'sharp';
import { FORMATS, outputOf, type OutputFormat } from '../../formats/formats.js';
import type { Timing } from './decode.js';
import type { Frames } from './mark.js';

/** Encodes with the registry's options for the format; an animation keeps its frame timing. */
export function encode(image: Sharp, format: OutputFormat, quality: number, timing: Timing = {}): Sharp {
  return image.toFormat(format, { ...outputOf(format).options(quality), ...(FORMATS[format].animation ? timing : {}) });
}

/**
 * The encode step's input from raw frames: all of them for a format that animates, else the first.
 * Alpha goes onto `background` for a format without it (JPEG).
 */
export function fromFrames(frames: Frames, format: OutputFormat, background: string): Sharp {
  const pages = FORMATS[format].animation ? frames.pages : 1;
  const data = pages === frames.pages ? frames.data : frames.data.subarray(0, frames.width * frames.height * frames.channels);
  const image = sharp(data, { raw: { width: frames.width, height: frames.height * pages, channels: frames.channels as 1 | 2 | 3 | 4, ...(pages > 1 ? { pageHeight: frames.height } : {}) } });
  return flattenFor(image, format, background);
}

/** A format without alpha gets the picture over `background`, not over black (sharp skips it for opaque pixels). */
export const flattenFor = (image: Sharp, format: OutputFormat, background: string): Sharp => (outputOf(format).alpha ? image : image.flatten({ background }));
