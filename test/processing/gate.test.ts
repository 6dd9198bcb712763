import { describe, expect, it } from 'vitest';
import { createGate } from '../../src/processing/gate.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('createGate', () => {
  it('runs at most `slots` at once, lets the rest in by arrival, and frees a slot on failure too', async () => {
    const gate = createGate(2);
    const started: number[] = [];
    const finishers = new Map<number, (fail: boolean) => void>();
    const results = [0, 1, 2, 3].map((n) =>
      gate.run(
        () =>
          new Promise<number>((resolve, reject) => {
            started.push(n);
            finishers.set(n, (fail) => (fail ? reject(new Error(`job ${n}`)) : resolve(n)));
          }),
      ),
    );
    await tick();
    expect(started).toEqual([0, 1]);

    finishers.get(1)!(true);
    await expect(results[1]).rejects.toThrow('job 1');
    await tick();
    expect(started).toEqual([0, 1, 2]);

    finishers.get(0)!(false);
    expect(await results[0]).toBe(0);
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);

    finishers.get(2)!(false);
    finishers.get(3)!(false);
    expect(await Promise.all([results[2], results[3]])).toEqual([2, 3]);
    // Both slots are free again: two new jobs start at once.
    const again: number[] = [];
    void gate.run(async () => again.push(1));
    void gate.run(async () => again.push(2));
    await tick();
    expect(again).toEqual([1, 2]);
  });
});
