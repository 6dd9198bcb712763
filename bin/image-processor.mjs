#!/usr/bin/env node
// `npx image-processor process <files or folders...> --out <dir>`: runs the TypeScript source
// through tsx (installed by `npm ci`), so it works without a build and never runs stale code.
import { register } from 'tsx/esm/api';

register();
await import('../src/runtime/cli.ts');
