import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/temp.js';

const BUNDLE = join(import.meta.dirname, '../../dist/runtime/local.mjs');
const tempDirs = useTempDirs();

/** Starts the built server with `extraEnv`, stops it once it listens, and returns the messages it logged. */
async function startAndStop(extraEnv: Record<string, string | undefined>): Promise<string[]> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: await tempDirs(), PORT: '0', LOG_LEVEL: 'info', ...extraEnv };
  for (const [name, value] of Object.entries(extraEnv)) if (value === undefined) delete env[name];
  const child = spawn(process.execPath, [BUNDLE], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('"stopping"') || !output.includes('listening on')) return;
    child.kill('SIGTERM');
  });
  // 'close', not 'exit': the last lines may still be in the pipe when the process has exited.
  await new Promise((resolve) => child.once('close', resolve));
  return output
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
}

describe('start-up', () => {
  it('says when sharp would use one thread per image, and how to fix it', async () => {
    const without = await startAndStop({ MALLOC_ARENA_MAX: undefined });
    expect(without.some((msg) => msg.includes('MALLOC_ARENA_MAX=2'))).toBe(true);
    const withIt = await startAndStop({ MALLOC_ARENA_MAX: '2' });
    expect(withIt.some((msg) => msg.startsWith('listening on'))).toBe(true);
    expect(withIt.some((msg) => msg.includes('MALLOC_ARENA_MAX'))).toBe(false);
  });
});
