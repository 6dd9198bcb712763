import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AppError } from '../errors.js';
import type { ImagingSettings, RenderedImage } from './render-image.js';
import type { RenderSource } from './render-source.js';

/** Renders in processes of their own, each ended at its deadline. */
export interface RenderHost {
  render(source: RenderSource, settings: ImagingSettings): Promise<RenderedImage>;
  /** Starts every process renders may use, ahead of renders expected soon (a start costs 300 to 400 ms). */
  prepare(): void;
  close(): void;
}

type Answer = { rendered: RenderedImage } | { error: { status: number; code: string; message: string } };

/**
 * The render process's entry: its bundle beside this one (dist/runtime/render-child.mjs), or run
 * from the sources through tsx (tests, `bin/`).
 */
function childEntry(): { path: string; execArgv: string[] } {
  if (import.meta.url.endsWith('.ts')) return { path: fileURLToPath(new URL('./render-child.ts', import.meta.url)), execArgv: ['--import', 'tsx'] };
  return { path: fileURLToPath(new URL('./render-child.mjs', import.meta.url)), execArgv: [] };
}

/**
 * A deadline that stops the work, not only the answer: a render runs in a child process, and one
 * that outlives PROCESS_TIMEOUT_MS (an AVIF encode libvips cannot interrupt, say) is killed, its
 * threads and memory with it. Up to `slots` processes are kept and reused; the callers' gate decides
 * how many renders run at once, so a render never waits here for a process.
 */
export function createRenderHost(slots: number): RenderHost {
  const idle: ChildProcess[] = [];
  const all = new Set<ChildProcess>();
  let closed = false;

  /** A render process that has loaded its code (a start takes a few hundred ms, never counted against a deadline). */
  function spawn(): Promise<ChildProcess> {
    const { path, execArgv } = childEntry();
    const child = fork(path, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    all.add(child);
    // A process that cannot start, or a message to one that has just ended, is an 'error' event: the
    // 'exit' handlers below answer for it; unheard, it would end the server.
    child.on('error', () => child.kill('SIGKILL'));
    child.once('exit', () => {
      all.delete(child);
      const at = idle.indexOf(child);
      if (at >= 0) idle.splice(at, 1);
    });
    return new Promise((resolve, reject) => {
      child.once('message', () => resolve(child));
      child.once('exit', () => reject(new AppError(503, 'render_unavailable', 'No render process could be started; try again shortly.', { 'retry-after': '5' })));
    });
  }

  /** Starts one for the next render, so that it does not wait for a start. */
  const warm = async (): Promise<boolean> => {
    if (closed || all.size >= slots) return false;
    return spawn().then(
      (child) => (closed || idle.length >= slots ? (child.kill('SIGKILL'), false) : (idle.push(child), true)),
      () => false,
    );
  };
  let preparing = false;

  return {
    async render(source, settings) {
      if (closed) throw new AppError(503, 'shutting_down', 'The server is stopping; try again shortly.');
      const child = idle.pop() ?? (await spawn());
      const answer = await new Promise<Answer | 'timeout' | 'ended'>((resolve) => {
        const timer = setTimeout(() => resolve('timeout'), settings.processTimeoutMs);
        const done = (result: Answer | 'ended') => {
          clearTimeout(timer);
          child.off('message', done);
          child.off('exit', ended);
          resolve(result);
        };
        const ended = () => done('ended');
        child.on('message', done);
        child.once('exit', ended);
        // A file is read by the render process itself: sending its bytes costs more than the read.
        child.send(Buffer.isBuffer(source) ? { bytes: source, settings } : { path: source.path, settings });
      });
      const reusable = typeof answer === 'object' && !('error' in answer && answer.error.code === 'timeout');
      if (reusable && !closed && idle.length < slots) idle.push(child);
      else {
        child.once('exit', () => void warm());
        child.kill('SIGKILL');
      }
      if (answer === 'timeout') throw new AppError(422, 'timeout', `Processing took longer than ${settings.processTimeoutMs} ms.`);
      if (answer === 'ended') throw new AppError(422, 'render_failed', 'This render could not be made: its process ended (out of memory, or a decoder fault).');
      if ('error' in answer) throw new AppError(answer.error.status, answer.error.code, answer.error.message);
      // The variants' bytes come over as plain Uint8Arrays.
      const asBuffer = (data: Uint8Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      const { variants, intermediate } = answer.rendered;
      return {
        ...answer.rendered,
        variants: variants.map((variant) => ({ ...variant, data: asBuffer(variant.data) })),
        ...(intermediate ? { intermediate: { ...intermediate, data: asBuffer(intermediate.data) } } : {}),
      };
    },
    prepare() {
      if (preparing) return;
      preparing = true;
      // One start after another: a start costs a core for a few hundred ms, and uploads may be processing.
      const next = (started: boolean): unknown => (started ? warm().then(next) : (preparing = false));
      next(true);
    },
    close() {
      closed = true;
      for (const child of all) child.kill('SIGKILL');
      idle.length = 0;
    },
  };
}
