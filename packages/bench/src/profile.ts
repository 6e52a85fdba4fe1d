// Runs one implementation of one case in a loop, for a CPU profile without the other libraries in it:
//
//   pnpm --filter @tributary/bench cpu-profile metadata decode        (Tributary, the lower version)
//   pnpm --filter @tributary/bench cpu-profile fetch decode --library @platformatic/kafka
//
// The script passes --cpu-prof; the profile lands in packages/bench/bench-results/profiles/ (ignored
// by git), and `tsx src/cpu-profile-summary.ts bench-results/profiles/*.cpuprofile` lists its hot spots.
import { parseArgs } from 'node:util';
import type { Case } from './case.js';
import { fetchCase } from './cases/fetch.js';
import { joinGroupCase } from './cases/join-group.js';
import { metadataCase } from './cases/metadata.js';
import { produceCase } from './cases/produce.js';
import { buildRecordBatches } from './fixtures.js';

const { values, positionals } = parseArgs({
  options: {
    library: { type: 'string', default: 'Tributary' },
    version: { type: 'string' },
    seconds: { type: 'string', default: '5' },
  },
  allowPositionals: true,
});
const [caseId, direction] = positionals;
if (!caseId || (direction !== 'encode' && direction !== 'frame' && direction !== 'decode')) {
  console.error(
    'usage: profile <produce|fetch|metadata|join-group> <encode|frame|decode> [--library L] [--version N]',
  );
  process.exit(2);
}

const batches = await buildRecordBatches();
const builders: Record<string, () => Case> = {
  produce: () => produceCase(batches),
  fetch: () => fetchCase(batches),
  metadata: metadataCase,
  'join-group': joinGroupCase,
};
const build = builders[caseId];
if (!build) throw new Error(`no case ${caseId}`);
const impl = build().implementations.find(
  (i) =>
    i.library === values.library && (values.version === undefined || i.version === Number(values.version)),
);
if (!impl) throw new Error(`no ${values.library} implementation of ${caseId}`);

const run = direction === 'frame' ? impl.encodeFrame : impl[direction];
if (!run) throw new Error(`${caseId} is not measured as frames`);
const until = performance.now() + Number(values.seconds) * 1000;
let ops = 0;
let sink: unknown;
const isAsync = run() instanceof Promise;
while (performance.now() < until) {
  for (let i = 0; i < 100; i++) sink = isAsync ? await run() : run();
  ops += 100;
}
console.log(`${impl.library} v${impl.version} ${caseId} ${direction}: ${ops} ops`, typeof sink);
