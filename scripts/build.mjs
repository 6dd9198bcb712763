// Bundles the entry points with esbuild and copies the web page beside them. Fast enough
// (well under a second) that `npm start` runs it every time, so the start never serves stale code.
import { cp, rm } from 'node:fs/promises';
import { build } from 'esbuild';

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
await cp('src/web', 'dist/web', { recursive: true });
