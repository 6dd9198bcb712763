// `npm run variants-schema`: writes docs/variants.schema.json, the JSON Schema of VARIANTS_FILE,
// from the zod schema the server validates the file with (test/config.test.ts checks it is current).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { variantsJsonSchema } from '../src/config/variants.js';

const path = join(import.meta.dirname, '../docs/variants.schema.json');
await writeFile(path, `${JSON.stringify(variantsJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path}`);
