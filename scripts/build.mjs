// Bundles the server entry point and the web page with esbuild. Fast enough (well under a second)
// that `npm start` runs it every time, so a start never serves stale code.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';
import { buildWeb } from './build-web.mjs';

await rm('dist', { recursive: true, force: true });
await build({
  entryPoints: { 'runtime/local': 'src/runtime/local.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
await buildWeb('dist/web');
