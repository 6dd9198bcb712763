import { describe, expect, it } from 'vitest';
import { createWorkQueue } from '../../src/processing/work-queue.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('work queue', () => {
  it('never runs more than `concurrency` at once, and runs everything', async () => {
    let running = 0;
    let peak = 0;
    const done: string[] = [];
    const queue = createWorkQueue(2, async (id) => {
      running++;
      peak = Math.max(peak, running);
      await tick(5);
      running--;
      done.push(id);
    });
    for (let i = 0; i < 10; i++) queue.enqueue(`id${i}`);
    expect(queue.active).toBe(2);
    expect(queue.depth).toBe(8);
    await queue.idle();
    expect(peak).toBe(2);
    expect(done.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `id${i}`).sort());
  });

  it('tells which ids it is working on, not those waiting', async () => {
    let release!: () => void;
    const queue = createWorkQueue(1, () => new Promise<void>((resolve) => (release = resolve)));
    queue.enqueue('a');
    queue.enqueue('b');
    expect([queue.isRunning('a'), queue.isRunning('b'), queue.isRunning('c')]).toEqual([true, false, false]);
    release();
    await tick(1);
    expect([queue.isRunning('a'), queue.isRunning('b')]).toEqual([false, true]);
    release();
    await queue.idle();
    expect(queue.isRunning('b')).toBe(false);
  });

  it('runs an id queued twice while waiting once, and once more if queued while running', async () => {
    const runs: string[] = [];
    let release!: () => void;
    const queue = createWorkQueue(1, async (id) => {
      runs.push(id);
      if (id === 'a' && runs.length === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    queue.enqueue('a');
    queue.enqueue('b');
    queue.enqueue('b');
    queue.enqueue('a');
    release();
    await queue.idle();
    expect(runs).toEqual(['a', 'b', 'a']);
  });

  it('is idle at once when empty, and takes no work after close', async () => {
    const runs: string[] = [];
    const queue = createWorkQueue(1, async (id) => void runs.push(id));
    await queue.idle();
    await queue.close();
    queue.enqueue('late');
    await queue.idle();
    expect(runs).toEqual([]);
  });

  it('tells when one id is settled: after its run, and after the run again it was queued for while running', async () => {
    const releases: Array<() => void> = [];
    const queue = createWorkQueue(1, () => new Promise<void>((resolve) => releases.push(resolve)));
    await queue.settled('never-queued');
    let settled = false;
    queue.enqueue('a');
    const waiting = queue.settled('a').then(() => (settled = true));
    queue.enqueue('a');
    await tick(1);
    releases.shift()!();
    await tick(1);
    // Queued again while it ran: not settled until that run ends too.
    expect(settled).toBe(false);
    releases.shift()!();
    await waiting;
    expect(settled).toBe(true);
  });

  it('tells a waiter as soon as the run says its outcome can be read, before the run ends', async () => {
    let written!: () => void;
    let end!: () => void;
    const queue = createWorkQueue(1, (_id, said) => ((written = said), new Promise<void>((resolve) => (end = resolve))));
    queue.enqueue('a');
    const told = queue.settled('a');
    await tick(1);
    written();
    expect(await told).toBe(true);
    expect(queue.active).toBe(1);
    end();
    await queue.idle();
  });
});
