import { describe, expect, it } from 'vitest';
import { createCallerShares } from '../../src/http/overload.js';

describe('a caller’s share of uploads', () => {
  it('counts requests that arrive in the same tick: past the share they wait in line, and each gets a slot as one ends', async () => {
    const shares = createCallerShares(2, { perCaller: 4, total: 100, ms: 10_000 });
    // Five at once, as a bulk client's requests are parsed in one turn of the event loop.
    const asked = Array.from({ length: 5 }, () => shares.wait('bulk', 'uploads'));
    const settled: Array<'taken' | 'refused' | undefined> = new Array(5).fill(undefined);
    asked.forEach((request, i) => request.then(() => (settled[i] = 'taken'), () => (settled[i] = 'refused')));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toEqual(['taken', 'taken', undefined, undefined, undefined]);
    // Each slot that ends passes to the next in line.
    for (let next = 2; next < 5; next++) {
      (await asked[next - 2]!)();
      await new Promise((resolve) => setImmediate(resolve));
      expect(settled[next]).toBe('taken');
    }
  });

  it('refuses at once past the caller’s place in line, and when waiting is off', async () => {
    const inLine = createCallerShares(1, { perCaller: 1, total: 100, ms: 10_000 });
    const first = await inLine.wait('a', 'uploads');
    const second = inLine.wait('a', 'uploads');
    await expect(inLine.wait('a', 'uploads')).rejects.toMatchObject({ status: 503, code: 'too_many_uploads' });
    first();
    expect(typeof (await second)).toBe('function');

    const noWaiting = createCallerShares(1, { perCaller: 4, total: 100, ms: 0 });
    await noWaiting.wait('b', 'uploads');
    await expect(noWaiting.wait('b', 'uploads')).rejects.toMatchObject({ status: 503 });
  });
});
