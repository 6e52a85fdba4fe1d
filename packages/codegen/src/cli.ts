import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './generate.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');

function usage(): never {
  console.error(`usage: pnpm generate [--specs DIR] [--out DIR] [--check]

  --specs DIR  Kafka message spec folder (default $TRIBUTARY_KAFKA_SPECS or ../shared/kafka-message-specs)
  --out DIR    output folder (default packages/codec/src/generated)
  --check      write nothing; exit 1 if the committed output differs from a fresh generation`);
  process.exit(2);
}

const args = process.argv.slice(2);
let specs = process.env.TRIBUTARY_KAFKA_SPECS ?? resolve(repo, '../shared/kafka-message-specs');
let out = resolve(repo, 'packages/codec/src/generated');
let check = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--specs') specs = resolve(args[++i] ?? usage());
  else if (a === '--out') out = resolve(args[++i] ?? usage());
  else if (a === '--check') check = true;
  else usage();
}

if (!existsSync(specs)) {
  if (check) {
    console.log(`codegen check skipped: no spec folder at ${relative(process.cwd(), specs) || specs}`);
    process.exit(0);
  }
  console.error(`no spec folder at ${specs} (set --specs or TRIBUTARY_KAFKA_SPECS)`);
  process.exit(2);
}

const files = generate(specs);

function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

if (check) {
  const existing = new Set(listFiles(out));
  const problems: string[] = [];
  for (const [path, text] of files) {
    existing.delete(path);
    const file = join(out, path);
    if (!existsSync(file)) problems.push(`missing: ${path}`);
    else if (readFileSync(file, 'utf8') !== text) problems.push(`differs: ${path}`);
  }
  for (const path of existing) problems.push(`not generated: ${path}`);
  if (problems.length > 0) {
    console.error(`generated code is out of date (${problems.length} files); run \`pnpm generate\`:`);
    for (const p of problems.slice(0, 20)) console.error(`  ${p}`);
    process.exit(1);
  }
  console.log(`generated code is up to date (${files.size} files)`);
} else {
  rmSync(out, { recursive: true, force: true });
  for (const [path, text] of files) {
    const file = join(out, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  console.log(`wrote ${files.size} files to ${relative(process.cwd(), out) || out}`);
}
