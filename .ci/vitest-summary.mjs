#!/usr/bin/env node
// One line of counts from a vitest JSON report, for .ci/run.
//
// Usage: node .ci/vitest-summary.mjs LABEL REPORT [--expect FILE]...
// Each --expect names a test file (a path ending) that must be in the report with every test
// passed: a suite that a Node version gate left out by mistake fails CI instead of vanishing
// from the counts. Exits 1 when an expected file is missing or did not pass.
import { readFileSync } from 'node:fs';

const [label, reportPath, ...rest] = process.argv.slice(2);
const expected = [];
for (let i = 0; i < rest.length; i += 2) {
  if (rest[i] !== '--expect' || rest[i + 1] === undefined) {
    console.error('usage: vitest-summary.mjs LABEL REPORT [--expect FILE]...');
    process.exit(2);
  }
  expected.push(rest[i + 1]);
}

const r = JSON.parse(readFileSync(reportPath, 'utf8'));
const skipped = r.numPendingTests + r.numTodoTests;
// A test file that fails to load fails no test: count failed files too.
const failedFiles = r.testResults.filter((t) => t.status === 'failed').length;
const parts = [
  `${label}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped; ` +
    `${failedFiles} of ${r.testResults.length} test files failed`,
];
let ok = true;
for (const file of expected) {
  const found = r.testResults.find((t) => t.name.endsWith(file));
  if (found === undefined) {
    parts.push(`${file}: NOT RUN`);
    ok = false;
    continue;
  }
  const count = (status) => found.assertionResults.filter((a) => a.status === status).length;
  const passed = count('passed');
  const total = found.assertionResults.length;
  parts.push(`${file}: ${passed} of ${total} passed`);
  if (found.status !== 'passed' || total === 0 || passed !== total) ok = false;
}
console.log(parts.join('; '));
process.exit(ok ? 0 : 1);
