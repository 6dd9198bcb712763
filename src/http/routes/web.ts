import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '../../errors.js';
import type { AppEnv } from '../context.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** The page may load its own scripts, styles and the signed image links; nothing inline, no framing. */
const PAGE_CSP = "default-src 'self'; img-src 'self' data: blob: http: https:; connect-src 'self' http: https:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The web page and its assets, read from `webRoot`. Plain file reads rather than a Node-only
 * static middleware, so the same app serves the page on Lambda.
 */
export function registerWebRoutes(app: OpenAPIHono<AppEnv>, webRoot: string): void {
  const serve = async (file: string) => {
    let body: Buffer;
    try {
      body = await readFile(join(webRoot, file));
    } catch {
      throw new AppError(404, 'not_found', `There is no ${file}.`);
    }
    return new Response(new Uint8Array(body), {
      headers: {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-security-policy': PAGE_CSP,
        'cache-control': file === 'index.html' ? 'no-cache' : 'public, max-age=3600',
      },
    });
  };
  app.get('/', () => serve('index.html'));
  app.get('/assets/:file{[A-Za-z0-9][A-Za-z0-9._-]*}', (c) => serve(`assets/${c.req.param('file')}`));
}
