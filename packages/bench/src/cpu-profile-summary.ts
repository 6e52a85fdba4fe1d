// Prints the functions with the most self time in a .cpuprofile (from `pnpm run cpu-profile`):
//
//   tsx src/cpu-profile-summary.ts bench-results/profiles/CPU.*.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

const { values, positionals } = parseArgs({
  options: { top: { type: 'string', default: '25' } },
  allowPositionals: true,
});

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const total = profile.samples.length;
  if (total < 50) continue;
  const self = new Map<string, number>();
  for (const n of profile.nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url.replace(/^.*\/(packages|node_modules)\//, '$1/').replace(/^file:\/\//, '');
    const key = `${functionName || '(anonymous)'}  ${where}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + n.hitCount);
  }
  // Skip the module loader's worker thread, idle while the loop runs.
  if ((self.get('(idle)  :0') ?? 0) > total * 0.8) continue;
  console.log(`${file}: ${total} samples`);
  for (const [key, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)))
    console.log(`${((hits / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
}
