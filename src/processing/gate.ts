/** Runs work under some bound on how much runs at once. */
export interface Gate {
  run<T>(work: () => Promise<T>): Promise<T>;
}

/** A gate that also lends a slot it is not using. */
export interface LendingGate extends Gate {
  /** A slot now, when one is free and nobody waits for it (its release, called once), else undefined. */
  tryTake(): (() => void) | undefined;
}

/** A gate that lets everyone through at once. */
export const UNBOUNDED: Gate = { run: (work) => work() };

/** A counting semaphore: at most `slots` callers run `work` at once, the rest wait in arrival order. */
export function createGate(slots: number): LendingGate {
  let free = slots;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return {
    tryTake() {
      if (free === 0 || waiting.length > 0) return undefined;
      free--;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        release();
      };
    },
    async run<T>(work: () => Promise<T>): Promise<T> {
      if (free > 0) free--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}

/**
 * Images a runner keeps in flight per render slot. Past the render, an image still has a few fsync'd
 * writes (variants, manifest, dedup record) and, before it, a read and a manifest write: with two
 * per slot, those waits overlap another image's rendering and the cores stay busy.
 */
export const IN_FLIGHT_PER_RENDER_SLOT = 2;
