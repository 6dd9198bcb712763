import { AppError } from '../errors.js';
import { acceptedNames } from './formats.js';

/** The 415 for a file of a type this server does not take, in words a person reads (the page shows them as they are). */
export function notAccepted(svg: boolean, allowed: { allowSvg: boolean }): AppError {
  if (svg && !allowed.allowSvg) return new AppError(415, 'unsupported_format', 'SVG files are not accepted on this server.');
  return new AppError(415, 'unsupported_format', `This file is not an image this server takes: it accepts ${acceptedNames(allowed)}.`);
}
