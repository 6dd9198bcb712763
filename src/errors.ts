/**
 * The one error type of the project: an HTTP status and a stable machine-readable code.
 * The HTTP layer turns it into problem+json; the processor writes its code into failed manifests.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;
