import { join, resolve } from 'node:path';
import type { Config, StorageKind } from '../config/config.js';
import { createFsStore } from './fs-store.js';
import type { ObjectCreatedSource, ObjectStore, Retrigger, SignedLinks } from './object-store.js';
import { createPresignClient, createS3Client, createS3Store, type S3Store } from './s3-store.js';

/** The two buckets of a deployment, with what their backend can do beyond the ObjectStore port. */
export interface Buckets {
  input: ObjectStore & ObjectCreatedSource & Partial<SignedLinks & Retrigger>;
  output: ObjectStore & Partial<SignedLinks>;
  /**
   * Where a prefix of the input bucket lives on this machine, for backends that are folders: files
   * other tools drop there are heard by a watcher (their store announces only its own writes).
   */
  inputFolder?: (prefix: string) => string;
  /** A folder this process may keep state in across restarts (the clean-stop record), for backends on this machine. */
  stateFolder?: string;
}

/**
 * Every storage backend, keyed by STORAGE (config checks the value against the same names): a new
 * backend is its adapter, a row here and its line in test/storage/contract.test.ts. Nothing else
 * branches on which one runs.
 */
const BACKENDS: Record<StorageKind, (config: Config) => Buckets> = {
  fs: (config) => {
    const dataDir = resolve(config.dataDir);
    return {
      input: createFsStore(dataDir, config.inputBucket),
      output: createFsStore(dataDir, config.outputBucket),
      inputFolder: (prefix) => join(dataDir, config.inputBucket, prefix),
      stateFolder: join(dataDir, '.state'),
    };
  },
  s3: (config) => openS3Buckets(config),
};

/** A deployment's S3 buckets (or an S3-compatible server's), with every capability S3 has: what the Lambda functions run on. */
export function openS3Buckets(config: Config): { input: S3Store; output: S3Store } {
  const client = createS3Client(config.s3);
  // Only the input bucket may have transfer acceleration: direct uploads (and original downloads) use it.
  return { input: createS3Store(client, config.inputBucket, createPresignClient(config.s3)), output: createS3Store(client, config.outputBucket) };
}

/** The buckets of `kind` (by default the configured STORAGE). */
export const openBuckets = (config: Config, kind: StorageKind = config.storage): Buckets => BACKENDS[kind](config);
