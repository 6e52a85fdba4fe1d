// @platformatic/kafka exports its per-version API modules (createRequest/parseResponse) and its
// Writer/Reader from the package root; its package.json is read from disk for the report.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export {
  fetchV12,
  joinGroupV6,
  metadataV9,
  produceV7,
  Reader,
  readRecordsBatches,
  Writer,
} from '@platformatic/kafka';

const require = createRequire(import.meta.url);
const entry = require.resolve('@platformatic/kafka');
export const platformaticVersion = (
  JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }
).version;
