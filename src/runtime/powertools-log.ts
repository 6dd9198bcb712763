import type { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '../logging.js';

/** Hands pino-shaped calls to Powertools' Logger; an `err` field goes as the error it is. */
export function powertoolsLog(logger: Logger): Log {
  const forward =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (fields: object, message: string) => {
      const { err, ...rest } = fields as { err?: unknown };
      if (err instanceof Error) logger[level](message, { ...rest, error: err });
      else logger[level](message, rest);
    };
  return { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') };
}
