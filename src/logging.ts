/**
 * The logging the core needs, in pino's call shape (fields first, then the message). Locally pino
 * is it; on Lambda an adapter hands the same calls to Powertools' Logger.
 */
export interface Log {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
