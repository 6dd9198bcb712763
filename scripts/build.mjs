// Bundles the entry points with esbuild: the local server (dependencies left in node_modules), the
// three Lambda handlers (self-contained but for sharp, with the page and the font beside them), and
// the web page. Fast enough (about a second) that `npm start` runs it every time.
import { copyFile, cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import { buildWeb } from './build-web.mjs';

const node = { bundle: true, platform: 'node', format: 'esm', outExtension: { '.js': '.mjs' }, sourcemap: true, logLevel: 'warning' };

await rm('dist', { recursive: true, force: true });
// The render process (imaging/render-child.ts) beside the server, which forks it for on-demand renders.
await build({ ...node, entryPoints: { 'runtime/local': 'src/runtime/local.ts', 'runtime/render-child': 'src/imaging/render-child.ts' }, outdir: 'dist', target: 'node20', packages: 'external' });
await buildWeb('dist/web');

await build({
  ...node,
  entryPoints: { processor: 'src/runtime/lambda-processor.ts', api: 'src/runtime/lambda-api.ts', failures: 'src/runtime/lambda-failures.ts', authorizer: 'src/runtime/lambda-authorizer.ts' },
  outdir: 'dist/lambda',
  target: 'node20',
  minify: true,
  // What the handlers import on demand (the SDK's multipart upload and presigner, for instance)
  // becomes a chunk of its own, parsed on first use instead of at every cold start.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // The ES module builds of the dependencies (the SDK ships both): they tree-shake, and a lazily
  // imported chunk keeps its named exports.
  mainFields: ['module', 'main'],
  // sharp is native, libheif is 8 MB of WebAssembly needed only for HEIC: both come from the Lambda
  // asset's node_modules (or this machine's), not from the bundle every cold start parses.
  external: ['sharp', 'libheif-js'],
  // Bundled CommonJS dependencies call require(); an ES module has none unless we make one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});
await cp('dist/web', 'dist/lambda/web', { recursive: true });
await mkdir('dist/lambda/fonts', { recursive: true });
await copyFile(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'), 'dist/lambda/fonts/DejaVuSans-Bold.ttf');
await copyFile(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/LICENSE'), 'dist/lambda/fonts/LICENSE');
// Lambda has no fonts and no fontconfig configuration: this one knows only the shipped font.
await writeFile(
  'dist/lambda/fonts/fonts.conf',
  '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>/var/task/fonts</dir>\n  <cachedir>/tmp/fontconfig-cache</cachedir>\n</fontconfig>\n',
);
