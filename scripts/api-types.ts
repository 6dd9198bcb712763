// `npm run api-types`: writes test/generated/api.ts, the TypeScript types openapi-typescript makes
// from the document the server publishes at /openapi.json. The typed test client is built on them;
// test/http/openapi.test.ts fails when they no longer match the document.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateApiTypes, publishedDocument } from '../test/helpers/openapi.js';

const path = join(import.meta.dirname, '../test/generated/api.ts');
await writeFile(path, await generateApiTypes(await publishedDocument()));
console.log(`wrote ${path}`);
