// Prints what the codec speaks: every Kafka API with its versions and the first flexible version.
import { API_TABLE } from '../src/generated/api-table.js';
import { MESSAGES } from '../src/generated/ir.js';

const rows = API_TABLE.filter((a) => a !== undefined);
const live = rows.filter((a) => a.minVersion >= 0);
const pairs = live.reduce((n, a) => n + a.maxVersion - a.minVersion + 1, 0);
const width = Math.max(...rows.map((a) => a.name.length));
console.log(`@tributary/codec speaks ${live.length} Kafka APIs at ${pairs} (API, version) pairs`);
console.log(
  `and ${MESSAGES.length} message specs in all (requests, responses, headers, data, KRaft and coordinator records).\n`,
);
console.log(`${'key'.padStart(3)}  ${'API'.padEnd(width)}  versions  flexible  listeners`);
for (const a of rows) {
  const versions =
    a.minVersion < 0 ? 'removed' : `${a.minVersion}-${a.maxVersion}${a.latestVersionUnstable ? '*' : ''}`;
  const flexible = a.flexibleFrom === null ? '-' : `${a.flexibleFrom}+`;
  console.log(
    `${String(a.apiKey).padStart(3)}  ${a.name.padEnd(width)}  ${versions.padEnd(8)}  ${flexible.padEnd(8)}  ${a.listeners.join(', ')}`,
  );
}
console.log('\n* the highest version is unstable in the specs and is never advertised');
