import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

/** Builds the web page into `outDir`: index.html, assets/app.js (one bundle, no inline script), assets/styles.css. */
export async function buildWeb(outDir) {
  await mkdir(join(outDir, 'assets'), { recursive: true });
  await build({
    entryPoints: ['src/web/main.ts'],
    outfile: join(outDir, 'assets/app.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  await copyFile('src/web/index.html', join(outDir, 'index.html'));
  await copyFile('src/web/styles.css', join(outDir, 'assets/styles.css'));
}
