/** Milliseconds per named stage of one image's way through, for the log and the bench. */
export type Stages = Record<string, number>;

/**
 * Times consecutive stages: `lap(name)` charges the time since the previous lap (or the start) to
 * `name`; a stage met twice adds up.
 */
export function stageClock(now: () => number = () => performance.now()) {
  const stages: Stages = {};
  let last = now();
  return {
    lap(name: string): void {
      const at = now();
      stages[name] = Math.round((stages[name] ?? 0) + at - last);
      last = at;
    },
    stages,
  };
}
