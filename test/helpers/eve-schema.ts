/** Suricata's EVE JSON schema (../shared/data/eve-schema) as a check for integration tests. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SHARED_DIR } from './paths.js';

const require = createRequire(import.meta.url);
// ajv's 2020-12 build, as test/golden/eve-schema.test.ts loads it.
const Ajv2020 = require('ajv/dist/2020') as new (opts: object) => {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null };
};

export const EVE_SCHEMA_PATH = path.join(SHARED_DIR, 'data', 'eve-schema', 'schema.json');

/** Every record validates against the EVE schema; nothing is checked when the schema is absent. */
export function assertEveSchema(records: readonly unknown[]): void {
  if (!fs.existsSync(EVE_SCHEMA_PATH)) return;
  const validate = new Ajv2020({ strict: false }).compile(
    JSON.parse(fs.readFileSync(EVE_SCHEMA_PATH, 'utf8')) as object,
  );
  for (const e of records) assert.ok(validate(e), `${JSON.stringify(validate.errors)} in ${JSON.stringify(e)}`);
}
