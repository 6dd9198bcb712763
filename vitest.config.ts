import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // sharp's native threads and the servers under test each want their own process.
    pool: 'forks',
    // s3rver encrypts its ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its
    // legacy provider: without it every truncated listing (a page, or over 1,000 keys) fails there.
    execArgv: ['--openssl-legacy-provider'],
    // s3rver answers a PUT before it writes the object's file, with no handler for that write's
    // errors: a DELETE that prunes the folder meanwhile makes the write throw inside s3rver. S3 has
    // no such race, and our code never sees it (the PUT was answered); it is the stand-in's own fault.
    onUnhandledError: (error) => !((error as { code?: string; path?: string }).code === 'ENOENT' && /\._S3rver_/.test((error as { path?: string }).path ?? '')),
  },
});
