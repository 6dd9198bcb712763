import type { ObjectInfo } from '../storage/object-store.js';

/** Who is calling: the owner id images are stored under, and the id an older release stored them under. */
export interface Owner {
  id: string;
  /** The unsalted id (a prefix of the key's SHA-256) of releases before OWNER_ID_SECRET; read, never written. */
  formerId?: string;
}

/** True when an image stored under `stored` belongs to `owner`. */
export const owns = (owner: Owner, stored: string) => stored === owner.id || stored === owner.formerId;

/**
 * Each API key sees the images it uploaded; images without an owner (uploaded with auth off, or
 * written by another tool) are shared. `owner` undefined means auth is off: everything is visible.
 */
export const visibleTo = (original: ObjectInfo, owner: Owner | undefined) =>
  owner === undefined || !original.metadata.owner || owns(owner, original.metadata.owner);
