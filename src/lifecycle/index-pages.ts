import { ALL_IMAGES, ownerImages, parseEntry, SHARED_IMAGES, type IndexEntry } from '../processing/image-index.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { Owner } from './owner.js';

/** The index scopes that hold what `owner` sees: its ids' and the shared images; everything with auth off. */
export const scopesFor = (owner: Owner | undefined): string[] =>
  owner === undefined ? [ALL_IMAGES] : [ownerImages(owner.id), ...(owner.formerId ? [ownerImages(owner.formerId)] : []), SHARED_IMAGES];

/** One scope's entries after `startAfter` (a name below the scope), newest first, a listing of `pageSize` at a time. */
export async function* scopeEntries(input: ObjectStore, scope: string, startAfter: string | undefined, pageSize: number): AsyncGenerator<IndexEntry> {
  let after = startAfter === undefined ? undefined : scope + startAfter;
  for (;;) {
    let listed = 0;
    for await (const object of input.list(scope, { ...(after !== undefined ? { startAfter: after } : {}), limit: pageSize })) {
      listed++;
      after = object.key;
      const entry = parseEntry(scope, object.key);
      if (entry) yield entry;
    }
    if (listed < pageSize) return;
  }
}

/**
 * The entries of several scopes as one newest-first sequence. Each scope is read a page at a time
 * and only as far as the caller goes, so a page of the result costs one listing per scope.
 */
export async function* mergedEntries(input: ObjectStore, scopes: string[], startAfter: string | undefined, pageSize: number): AsyncGenerator<IndexEntry> {
  const sources = scopes.map((scope) => scopeEntries(input, scope, startAfter, pageSize));
  // A source's next entry is read only once the one before it is taken: stopping costs no listing ahead.
  const heads: (IteratorResult<IndexEntry> | undefined)[] = sources.map(() => undefined);
  let previous: string | undefined;
  for (;;) {
    await Promise.all(heads.map(async (head, i) => void (head ?? (heads[i] = await sources[i]!.next()))));
    let best = -1;
    heads.forEach((head, i) => {
      if (!head!.done && (best < 0 || head!.value.name < (heads[best]!.value as IndexEntry).name)) best = i;
    });
    if (best < 0) return;
    const entry = heads[best]!.value as IndexEntry;
    heads[best] = undefined;
    // Never the same image twice, should it be listed in two of the scopes.
    if (entry.name !== previous) yield entry;
    previous = entry.name;
  }
}
