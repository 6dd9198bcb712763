import { AppError, isAppError } from '../errors.js';
import { isCutShort } from './cut-short.js';
import { FORMATS, type InputFormat } from '../formats/formats.js';

/**
 * A decoder's failure as the client hears it: what happened, in our words. The library's own text
 * is never passed on: it names files on this server and its internals ("VipsJpeg: premature end of
 * JPEG image", "Unknown error"), and the client can do nothing with either. With the file's `bytes`,
 * a failure of a file that lacks its end is called what it is.
 */
export function decodeFailure(error: unknown, format?: InputFormat, bytes?: Buffer): AppError {
  if (isAppError(error)) return error;
  const text = error instanceof Error ? error.message : String(error);
  const name = format ? FORMATS[format].label : 'image';
  if (/pixel limit/i.test(text)) return new AppError(422, 'too_many_pixels', `The ${name} has more pixels than this server takes.`);
  if (/timeout/i.test(text)) return new AppError(422, 'timeout', 'Processing took longer than the time limit.');
  // sharp refusing an option it was given (an animation's loop count over 65535, say) is our fault, not the file's.
  if (/^Expected .+ but received /.test(text)) {
    return new AppError(500, 'render_failed', `This ${name} could not be rendered because of a fault on our side, not in the file.`);
  }
  if (/premature end|truncat|unexpected end|end of (file|data|stream|image)|not enough data|short read|out of data/i.test(text) || (bytes && format && isCutShort(bytes, format))) {
    return new AppError(422, 'decode_failed', `The ${name} file is cut short: its end is missing. Upload the whole file.`);
  }
  return new AppError(422, 'decode_failed', `The ${name} data is corrupt, or uses a feature this server cannot decode.`);
}
