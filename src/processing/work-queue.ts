export interface WorkQueue {
  /** Queues an id; an id already waiting is not queued twice, one already running runs once more after. */
  enqueue(id: string): void;
  /** Ids waiting for a worker. */
  readonly depth: number;
  /** Ids being worked on. */
  readonly active: number;
  /** Whether `id` is being worked on now (not merely waiting). */
  isRunning(id: string): boolean;
  /** Resolves when nothing is waiting or running. */
  idle(): Promise<void>;
  /**
   * Resolves when `id` is neither waiting nor running, or its run said its outcome can be read
   * (`written`): true when a run of it ended so, false (at once) when none was due.
   */
  settled(id: string): Promise<boolean>;
  /** Stops taking work and waits for what runs. */
  close(): Promise<void>;
}

/**
 * A bounded pool: at most `concurrency` ids run at once, the rest wait in arrival order.
 * `run` must not throw; failures are the runner's to record. It may call `written` when its outcome
 * can be read, before it ends (what is left is making that outcome durable).
 */
export function createWorkQueue(concurrency: number, run: (id: string, written: () => void) => Promise<void>): WorkQueue {
  const waiting: string[] = [];
  const waitingSet = new Set<string>();
  const running = new Set<string>();
  const again = new Set<string>();
  const idleWaiters: Array<() => void> = [];
  const settledWaiters = new Map<string, Array<(ran: boolean) => void>>();
  let closed = false;
  const busy = (id: string) => waitingSet.has(id) || running.has(id);
  /** A run of `id` ended, or its outcome can be read: whoever waits for it is told. */
  const tell = (id: string) => {
    settledWaiters.get(id)?.forEach((resolve) => resolve(true));
    settledWaiters.delete(id);
  };

  function pump() {
    while (!closed && running.size < concurrency && waiting.length > 0) {
      const id = waiting.shift()!;
      waitingSet.delete(id);
      running.add(id);
      void run(id, () => !again.has(id) && tell(id)).finally(() => {
        running.delete(id);
        if (again.delete(id)) enqueue(id);
        if (!busy(id)) tell(id);
        pump();
        if (running.size === 0 && (waiting.length === 0 || closed)) idleWaiters.splice(0).forEach((resolve) => resolve());
      });
    }
  }

  function enqueue(id: string) {
    if (closed || waitingSet.has(id)) return;
    if (running.has(id)) {
      again.add(id);
      return;
    }
    waiting.push(id);
    waitingSet.add(id);
    pump();
  }

  const idle = () =>
    running.size === 0 && (waiting.length === 0 || closed) ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve));

  return {
    enqueue,
    get depth() {
      return waiting.length;
    },
    get active() {
      return running.size;
    },
    isRunning: (id) => running.has(id),
    idle,
    settled(id) {
      if (!busy(id)) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => settledWaiters.set(id, [...(settledWaiters.get(id) ?? []), resolve]));
    },
    async close() {
      closed = true;
      await idle();
    },
  };
}
