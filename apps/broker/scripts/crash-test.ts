// The full crash test: pnpm --filter @tributary/broker crash-test [--cycles 50]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCrashCycles } from '../test/crash-cycles.js';

const flag = process.argv.indexOf('--cycles');
const cycles = flag === -1 ? 50 : Number(process.argv[flag + 1]);
const dataDir = mkdtempSync(join(tmpdir(), 'tributary-crash-'));
const began = Date.now();
try {
  const report = await runCrashCycles({
    cycles,
    dataDir,
    onCycle: (cycle, acknowledged) =>
      process.stdout.write(`cycle ${cycle + 1}/${cycles}: ${acknowledged} acknowledged so far\n`),
  });
  const ok = report.lost.length === 0 && report.duplicates === 0 && report.offsetGaps === 0;
  process.stdout.write(
    `${JSON.stringify({ ...report, lost: report.lost.length, seconds: Math.round((Date.now() - began) / 1000) })}\n${ok ? 'PASS' : 'FAIL'}\n`,
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
