/**
 * Runs `each` over `items` (a list, or a listing read as it goes), `concurrency` at a time: each of
 * that many workers takes the next item as soon as it is free. `index` is the item's position.
 */
export async function inParallel<T>(items: Iterable<T> | AsyncIterable<T>, concurrency: number, each: (item: T, index: number) => Promise<unknown>): Promise<void> {
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  let taken = 0;
  const worker = async () => {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) await each(next.value, taken++);
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}
