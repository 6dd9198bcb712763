import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Log } from '../logging.js';
import { AppError, isAppError } from '../errors.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The one place an error becomes a response: RFC 9457 problem+json with a stable `code`. */
export function problemResponse(error: AppError): Response {
  const body = {
    type: `urn:image-processor:problem:${error.code}`,
    title: TITLES[error.status] ?? 'Error',
    status: error.status,
    detail: error.message,
    code: error.code,
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { 'content-type': 'application/problem+json', 'x-content-type-options': 'nosniff', ...error.headers },
  });
}

export function toAppError(error: unknown, logger: Log, c: Context): AppError {
  if (isAppError(error)) return error;
  if (error instanceof HTTPException && error.status < 500) {
    return new AppError(error.status, 'bad_request', error.message || TITLES[error.status] || 'Bad request');
  }
  logger.error({ err: error, method: c.req.method, path: c.req.path }, 'unhandled error');
  return new AppError(500, 'internal_error', 'Something went wrong on our side; the request was not completed.');
}
