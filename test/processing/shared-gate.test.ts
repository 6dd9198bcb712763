import { describe, expect, it } from 'vitest';
import { createGate } from '../../src/processing/gate.js';
import { createSharedGate } from '../../src/processing/shared-gate.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Work that runs until it is told to end. */
function held() {
  const ends: Array<() => void> = [];
  const started: string[] = [];
  const job = (name: string) => () =>
    new Promise<string>((resolve) => {
      started.push(name);
      ends.push(() => resolve(name));
    });
  return { job, started, endNext: () => ends.shift()!() };
}

describe('createSharedGate', () => {
  it('runs past its own slots in a slot another gate lends while idle; the lender’s own work goes first once it waits', async () => {
    const processing = createGate(1);
    const gate = createSharedGate({ slots: 1, maxWaiting: 10, perOwner: 10, borrow: processing.tryTake }, 'renders');
    const { job, started, endNext } = held();
    const own = gate.run('a', job('own slot'));
    const lent = gate.run('a', job('lent slot'));
    await tick();
    expect(started).toEqual(['own slot', 'lent slot']);
    // The lender’s work waits for its slot, and nothing borrows it while it does.
    const upload = processing.run(job('processing'));
    const third = gate.run('a', job('waits'));
    await tick();
    expect(started).toEqual(['own slot', 'lent slot']);
    endNext();
    await own;
    await tick();
    expect(started).toEqual(['own slot', 'lent slot', 'waits']);
    endNext();
    await lent;
    await tick();
    expect(started).toEqual(['own slot', 'lent slot', 'waits', 'processing']);
    endNext();
    endNext();
    await Promise.all([upload, third]);
  });

  it('runs `slots` at once, queues `maxWaiting`, and refuses more at once with 503 and Retry-After', async () => {
    const gate = createSharedGate({ slots: 1, maxWaiting: 1, perOwner: 10 }, 'renders');
    const { job, started, endNext } = held();
    const first = gate.run('a', job('first'));
    const second = gate.run('b', job('second'));
    await tick();
    expect(started).toEqual(['first']);
    expect(gate.waiting).toBe(1);
    await expect(gate.run('c', job('third'))).rejects.toMatchObject({ status: 503, code: 'busy', headers: { 'retry-after': '5' } });
    expect(started).toEqual(['first']);
    endNext();
    expect(await first).toBe('first');
    await tick();
    expect(started).toEqual(['first', 'second']);
    endNext();
    expect(await second).toBe('second');
  });

  it('lets one owner hold at most `perOwner` running or waiting (429), so others still get in', async () => {
    const gate = createSharedGate({ slots: 2, maxWaiting: 10, perOwner: 2 }, 'renders');
    const { job, started, endNext } = held();
    const mine = [gate.run('attacker', job('a1')), gate.run('attacker', job('a2'))];
    await expect(gate.run('attacker', job('a3'))).rejects.toMatchObject({ status: 429, code: 'too_many_in_progress' });
    const theirs = gate.run('victim', job('v1'));
    await tick();
    expect(started).toEqual(['a1', 'a2']);
    endNext();
    await tick();
    // The freed slot goes to the one waiting; the attacker may ask again once one of its own ended.
    expect(started).toEqual(['a1', 'a2', 'v1']);
    const again = gate.run('attacker', job('a4'));
    endNext();
    endNext();
    await tick();
    endNext();
    expect(await Promise.all([...mine, theirs, again])).toEqual(['a1', 'a2', 'v1', 'a4']);
  });

  it('frees the slot and the owner’s share when the work fails', async () => {
    const gate = createSharedGate({ slots: 1, maxWaiting: 0, perOwner: 1 }, 'renders');
    await expect(gate.run('a', () => Promise.reject(new Error('broken')))).rejects.toThrow('broken');
    expect(await gate.run('a', () => Promise.resolve('ok'))).toBe('ok');
  });
});
