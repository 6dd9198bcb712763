import { AppError } from '../errors.js';

export interface SharedGateLimits {
  /** Work running at once. */
  slots: number;
  /** Work waiting for a slot, all owners together; past it, 503. */
  maxWaiting: number;
  /** Work running or waiting for one owner; past it, 429. */
  perOwner: number;
  /** A slot another gate is not using (its release), taken before waiting: see LendingGate. */
  borrow?: () => (() => void) | undefined;
}

/** A gate whose slots and queue are shared by owners: each owner holds at most its share. */
export interface SharedGate {
  run<T>(owner: string, work: () => Promise<T>): Promise<T>;
  /** Work waiting for a slot. */
  readonly waiting: number;
}

/**
 * A counting semaphore with a bounded queue and a bound per owner: one owner can neither take every
 * slot nor fill the queue, and nothing waits without end behind a queue that is full. Refusals come
 * at once, before any work (or read) is done, with Retry-After.
 */
export function createSharedGate({ slots, maxWaiting, perOwner, borrow }: SharedGateLimits, what: string): SharedGate {
  let free = slots;
  const queue: Array<() => void> = [];
  const held = new Map<string, number>();
  const forget = (owner: string) => {
    const left = (held.get(owner) ?? 1) - 1;
    if (left > 0) held.set(owner, left);
    else held.delete(owner);
  };
  const release = (owner: string) => {
    forget(owner);
    const next = queue.shift();
    if (next) next();
    else free++;
  };
  return {
    async run<T>(owner: string, work: () => Promise<T>): Promise<T> {
      const mine = held.get(owner) ?? 0;
      if (mine >= perOwner) {
        throw new AppError(429, 'too_many_in_progress', `This owner already has ${mine} ${what} in progress, the most it may; try again when one ends.`, { 'retry-after': '2' });
      }
      // No slot of its own free: one another gate lends runs now, and goes back to it after.
      const borrowed = free === 0 && queue.length === 0 ? borrow?.() : undefined;
      if (borrowed) {
        held.set(owner, mine + 1);
        try {
          return await work();
        } finally {
          forget(owner);
          borrowed();
        }
      }
      if (free === 0 && queue.length >= maxWaiting) {
        throw new AppError(503, 'busy', `Too many ${what} are waiting; try again shortly.`, { 'retry-after': '5' });
      }
      held.set(owner, mine + 1);
      if (free > 0) free--;
      else await new Promise<void>((resolve) => queue.push(resolve));
      try {
        return await work();
      } finally {
        release(owner);
      }
    },
    get waiting() {
      return queue.length;
    },
  };
}
