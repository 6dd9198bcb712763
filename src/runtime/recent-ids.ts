/**
 * Ids seen within the last `ttlMs`: locally both the store's own object-created event and the folder
 * watcher hear an upload, and the watcher must not queue it a second time (a second run of an image
 * that timed out would fail, and be reported, twice). Files other tools drop are heard by the watcher alone.
 */
export function recentIds(ttlMs: number, now: () => number = Date.now) {
  const seen = new Map<string, number>();
  const prune = () => {
    const oldest = now() - ttlMs;
    for (const [id, at] of seen) {
      if (at >= oldest) break;
      seen.delete(id);
    }
  };
  return {
    add(id: string) {
      prune();
      seen.delete(id);
      seen.set(id, now());
    },
    has(id: string): boolean {
      prune();
      return seen.has(id);
    },
  };
}
