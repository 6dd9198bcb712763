import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../config/config.js';
import { isAppError } from '../errors.js';
import { FORMATS } from '../formats/formats.js';
import { imagingSettings, renderImage } from '../imaging/render-image.js';
import { tuneSharp } from '../imaging/tuning.js';
import { reindex } from '../lifecycle/reindex.js';
import { createGate, IN_FLIGHT_PER_RENDER_SLOT } from '../processing/gate.js';
import { inParallel } from '../processing/in-parallel.js';
import { openBuckets } from '../storage/backends.js';
import { canRetrigger } from '../storage/object-store.js';
import { reprocessHere, reprocessViaServer, retriggerStale, type Tally } from './reprocess-all.js';
import { hasMark } from '../imaging/watermark.js';
import { checkStartUp } from './start-up-checks.js';
import { keysCommand, KEYS_USAGE } from './keys-command.js';
import { option } from './argv-option.js';

const USAGE = `usage: image-processor process <files or folders...> --out <dir>
       image-processor reprocess --all [--since <date>] (--server <url> [--key <key>] | --data-dir <dir> | --bucket <name>)
       image-processor reindex (--data-dir <dir> | --bucket <name>)
       image-processor keys (create --name <name> | list | revoke <name>) [--data-dir <dir> | --usage-plan <id>]

process: renders every image with the same processor and settings as the server (VARIANTS,
OUTPUT_FORMAT, WATERMARK_TEXT, ... from the environment) into <dir>/<name>/<variant>.<ext>.

reprocess --all: renders again every image (uploaded since <date>) that did not end with the
current settings; images that did are skipped, so an interrupted run picks up where it stopped.
  --server   through a running server's API (it judges with its own settings), following each image
  --data-dir on local folders, rendered here with the settings of this environment
  --bucket   on the S3 input bucket of a deployment (OUTPUT_BUCKET and AWS credentials from the
             environment, settings as deployed): stale originals are copied onto themselves, and
             the processor Lambda renders them
Both print "N reprocessed, M skipped, F failed" and exit 1 when any file or image failed.

reindex: lists every original of a store written before the image index in it (once, after an
upgrade; the local server does it by itself at its first start). --bucket takes OUTPUT_BUCKET and
AWS credentials from the environment. Safe to run again, or while the service runs.

${KEYS_USAGE.slice(KEYS_USAGE.indexOf('API keys for machines'))}`;

/** Every file under the given paths, folders walked recursively, hidden entries skipped. */
async function collectFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  const visit = async (path: string) => {
    if ((await stat(path)).isDirectory()) {
      for (const entry of (await readdir(path)).sort()) if (!entry.startsWith('.')) await visit(join(path, entry));
    } else {
      files.push(path);
    }
  };
  for (const path of paths) await visit(resolve(path));
  return files;
}

/** A folder name per file: its name without extension, made unique, safe on any file system. */
function outputNames(files: string[]): string[] {
  const used = new Map<string, number>();
  return files.map((file) => {
    const stem = basename(file, extname(file)).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '') || 'image';
    const seen = used.get(stem) ?? 0;
    used.set(stem, seen + 1);
    return seen === 0 ? stem : `${stem}-${seen + 1}`;
  });
}

function progress(done: number, total: number, label = '') {
  if (!process.stderr.isTTY) return;
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${label.slice(0, 40).padEnd(40)}`);
  if (done === total) process.stderr.write('\n');
}


async function reprocessAll(args: string[]): Promise<number> {
  const [server, dataDir, bucket, sinceText] = ['--server', '--data-dir', '--bucket', '--since'].map((name) => option(args, name));
  const since = sinceText === undefined ? undefined : new Date(sinceText);
  if (!args.includes('--all') || [server, dataDir, bucket].filter(Boolean).length !== 1 || (since && Number.isNaN(since.getTime()))) {
    console.error(USAGE);
    return 2;
  }
  let result: Tally;
  if (server) {
    result = await reprocessViaServer(server, option(args, '--key'), since, progress);
  } else {
    const config = configFor(dataDir, bucket);
    await checkStartUp(config);
    tuneSharp();
    const { input, output } = openBuckets(config);
    // Buckets whose events reach a processor elsewhere are announced again; folders are rendered here.
    result = canRetrigger(input) ? await retriggerStale(input, output, config, since, progress) : await reprocessHere(input, output, config, since, progress);
  }
  console.log(`${result.reprocessed} reprocessed, ${result.skipped} skipped, ${result.failed} failed`);
  for (const failure of result.failures) console.error(`failed: ${failure}`);
  return result.failed > 0 ? 1 : 0;
}

/** The settings of this environment, on the store the command names: a data folder, or a deployment's S3 input bucket. */
function configFor(dataDir: string | undefined, bucket: string | undefined) {
  return loadConfig({ ...process.env, ...(dataDir ? { DATA_DIR: dataDir, STORAGE: 'fs' } : { STORAGE: 's3', INPUT_BUCKET: bucket }) });
}

async function reindexStore(args: string[]): Promise<number> {
  const [dataDir, bucket] = ['--data-dir', '--bucket'].map((name) => option(args, name));
  if ([dataDir, bucket].filter(Boolean).length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const config = configFor(dataDir, bucket);
  const { input, output } = openBuckets(config);
  const started = Date.now();
  const images = await reindex(input, output, {
    onProgress: (done) => {
      if (process.stderr.isTTY && done % 1000 === 0) process.stderr.write(`\r${done} images indexed`);
    },
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log(`indexed ${images} images in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'reprocess') return reprocessAll(rest);
  if (command === 'reindex') return reindexStore(rest);
  if (command === 'keys') return keysCommand(rest);
  const outIndex = rest.indexOf('--out');
  const out = outIndex >= 0 ? rest[outIndex + 1] : undefined;
  const paths = rest.filter((_, i) => i !== outIndex && i !== outIndex + 1);
  if (command !== 'process' || !out || paths.length === 0) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  await checkStartUp(config);
  tuneSharp();
  const files = await collectFiles(paths);
  const names = outputNames(files);
  const settings = imagingSettings(config, hasMark(config.watermark));
  const gate = createGate(config.concurrency);
  const failures: string[] = [];
  let done = 0;
  // More files in flight than render slots, so reading and writing overlap another file's rendering.
  await inParallel(files, config.concurrency * IN_FLIGHT_PER_RENDER_SLOT, async (file, i) => {
    try {
      if ((await stat(file)).size > config.maxUploadBytes) throw new Error(`too_large: over MAX_UPLOAD_BYTES (${config.maxUploadBytes} bytes)`);
      const bytes = await readFile(file);
      const { variants } = await gate.run(() => renderImage(bytes, settings));
      const folder = join(out, names[i]!);
      await mkdir(folder, { recursive: true });
      for (const variant of variants) await writeFile(join(folder, `${variant.name}.${FORMATS[variant.format].extension}`), variant.data);
    } catch (error) {
      failures.push(`${file}: ${isAppError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error)}`);
    }
    progress(++done, files.length, basename(file));
  });
  console.log(`processed ${files.length - failures.length} of ${files.length} files into ${out}`);
  for (const failure of failures) console.error(`failed: ${failure}`);
  return failures.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(2);
  },
);
