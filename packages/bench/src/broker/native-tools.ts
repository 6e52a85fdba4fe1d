// Builds the two native programs the broker bench drives, once, into a cache outside git:
//
// - rdkafka_performance, librdkafka's load generator, from Debian's librdkafka source package,
//   compiled against the system's librdkafka-dev (the source version must match the library);
// - mock-cluster (native/mock-cluster.c), the reference broker on librdkafka's mock cluster.
//
// The source package comes through apt with a private configuration in the cache (its own source
// list, package lists and archive dir), so the machine's apt setup is read but never changed. Each
// step is skipped when its output exists; a missing prerequisite fails with the step to take.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NATIVE_DIR = join(packageDir, 'native');
/** node_modules/.cache is ignored by git and by Biome, and survives between runs. */
export const CACHE_DIR =
  process.env.BENCH_BROKER_CACHE ?? join(packageDir, 'node_modules', '.cache', 'bench-broker');

export interface NativeTools {
  rdkafkaPerformance: string;
  mockCluster: string;
  librdkafkaVersion: string;
}

export class SetupError extends Error {}

function run(cmd: string, args: string[], cwd: string, step: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.error || r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new SetupError(
      `${step} failed: ${cmd} ${args.join(' ')}\n${r.error?.message ?? `exit ${r.status}`}\n${out}`,
    );
  }
  return r.stdout;
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** The installed librdkafka-dev version, e.g. "2.0.2-1". */
function installedDevVersion(): string {
  // dpkg-query's own format syntax, not a template.
  const format = `-f=${'$'}{Version}`;
  const r = spawnSync('dpkg-query', ['-W', format, 'librdkafka-dev'], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout) {
    throw new SetupError(
      'librdkafka-dev is not installed. Install it first: apt-get update && apt-get install -y librdkafka-dev',
    );
  }
  if (!existsSync('/usr/include/librdkafka/rdkafka_mock.h')) {
    throw new SetupError('librdkafka-dev has no rdkafka_mock.h (/usr/include/librdkafka/rdkafka_mock.h)');
  }
  return r.stdout.trim();
}

interface AptSource {
  uri: string;
  suite: string;
  signedBy: string | null;
}

/**
 * The Debian archive the machine installs from, read from its apt sources (deb822 `.sources`
 * files or one-line `sources.list`), so the source package comes from the same mirror and suite.
 */
export function findDebianSource(files: readonly { name: string; text: string }[]): AptSource | null {
  for (const { name, text } of files) {
    if (name.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k: string) => stanza.match(new RegExp(`^${k}:\\s*(.+)$`, 'mi'))?.[1]?.trim();
        const types = field('Types')?.split(/\s+/) ?? [];
        const uri = field('URIs')?.split(/\s+/)[0];
        const suite = field('Suites')?.split(/\s+/)[0];
        const components = field('Components')?.split(/\s+/) ?? [];
        if (!types.includes('deb') || !uri || !suite || !components.includes('main')) continue;
        if (/security/.test(uri) || /-(updates|security|backports)$/.test(suite)) continue;
        return { uri, suite, signedBy: field('Signed-By') ?? null };
      }
    } else {
      for (const line of text.split('\n')) {
        const m = line.match(/^\s*deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s+(.*)$/);
        if (!m || !m[4]!.split(/\s+/).includes('main')) continue;
        if (/security/.test(m[2]!) || /-(updates|security|backports)$/.test(m[3]!)) continue;
        const signedBy = m[1]?.match(/signed-by=(\S+)/)?.[1] ?? null;
        return { uri: m[2]!, suite: m[3]!, signedBy };
      }
    }
  }
  return null;
}

function readAptSources(): { name: string; text: string }[] {
  const files: { name: string; text: string }[] = [];
  const add = (p: string) => {
    try {
      files.push({ name: p, text: readFileSync(p, 'utf8') });
    } catch {}
  };
  add('/etc/apt/sources.list');
  try {
    for (const f of readdirSync('/etc/apt/sources.list.d').sort()) {
      if (f.endsWith('.sources') || f.endsWith('.list')) add(join('/etc/apt/sources.list.d', f));
    }
  } catch {}
  return files;
}

/** Fetches and unpacks Debian's librdkafka source for `version`; returns the source tree. */
function fetchSource(version: string, log: (s: string) => void): string {
  const upstream = version.replace(/^\d+:/, '').replace(/-[^-]+$/, '');
  const tree = join(CACHE_DIR, `librdkafka-${upstream}`);
  if (existsSync(join(tree, 'examples', 'rdkafka_performance.c'))) return tree;
  if (!has('apt-get'))
    throw new SetupError('apt-get is not available: the librdkafka source package comes from apt');
  if (!has('dpkg-source')) {
    throw new SetupError(
      'dpkg-source is missing: apt-get install -y dpkg-dev (it unpacks the source package)',
    );
  }
  const source = findDebianSource(readAptSources());
  if (!source) throw new SetupError('no Debian "deb ... main" entry found in /etc/apt/sources.list{,.d}');
  const apt = join(CACHE_DIR, 'apt');
  for (const d of ['lists/partial', 'archives/partial', 'src']) mkdirSync(join(apt, d), { recursive: true });
  const opts = source.signedBy ? `[signed-by=${source.signedBy}] ` : '';
  writeFileSync(join(apt, 'sources.list'), `deb-src ${opts}${source.uri} ${source.suite} main\n`);
  const aptOptions = [
    '-o',
    `Dir::Etc::SourceList=${join(apt, 'sources.list')}`,
    '-o',
    `Dir::Etc::SourceParts=${join(apt, 'no-source-parts')}`,
    '-o',
    `Dir::State::Lists=${join(apt, 'lists')}`,
    '-o',
    `Dir::Cache=${apt}`,
  ];
  log(`apt-get update (deb-src ${source.uri} ${source.suite} main, private lists in ${apt})`);
  run('apt-get', [...aptOptions, '-q', 'update'], apt, 'apt-get update for the librdkafka source package');
  log(`apt-get source librdkafka=${version}`);
  run(
    'apt-get',
    [...aptOptions, '-q', 'source', '--download-only', `librdkafka=${version}`],
    join(apt, 'src'),
    `apt-get source librdkafka=${version} (the source must match the installed librdkafka-dev)`,
  );
  const dsc = readdirSync(join(apt, 'src')).find((f) => f.endsWith('.dsc'));
  if (!dsc) throw new SetupError('apt-get source left no .dsc file');
  rmSync(tree, { recursive: true, force: true });
  run(
    'dpkg-source',
    ['-x', '--skip-debianization', join(apt, 'src', dsc), tree],
    CACHE_DIR,
    'dpkg-source -x (unpacking librdkafka)',
  );
  return tree;
}

function newer(output: string, input: string): boolean {
  return existsSync(output) && statSync(output).mtimeMs >= statSync(input).mtimeMs;
}

/** Builds (or finds, when already built) rdkafka_performance and mock-cluster. */
export function ensureNativeTools(log: (s: string) => void = () => {}): NativeTools {
  if (process.platform !== 'linux') throw new SetupError('the broker bench runs on Linux only');
  if (!has('gcc')) throw new SetupError('gcc is missing: apt-get install -y gcc');
  const version = installedDevVersion();
  mkdirSync(CACHE_DIR, { recursive: true });
  const bin = join(CACHE_DIR, 'bin');
  mkdirSync(bin, { recursive: true });

  const mockSource = join(NATIVE_DIR, 'mock-cluster.c');
  const mockCluster = join(bin, 'mock-cluster');
  if (!newer(mockCluster, mockSource)) {
    log('gcc mock-cluster.c');
    run(
      'gcc',
      ['-O2', '-Wall', '-o', mockCluster, mockSource, '-lrdkafka'],
      NATIVE_DIR,
      'building mock-cluster',
    );
  }

  const rdkafkaPerformance = join(bin, `rdkafka_performance-${version}`);
  if (!existsSync(rdkafkaPerformance)) {
    const tree = fetchSource(version, log);
    // The example includes librdkafka's internal headers (rd.h, rdtime.h), which need the
    // config.h that configure writes; only the example itself is compiled, against -lrdkafka.
    if (!existsSync(join(tree, 'config.h'))) {
      log('configure librdkafka (for config.h only)');
      run('./configure', [], tree, 'librdkafka ./configure (writes config.h for the example)');
    }
    log('gcc examples/rdkafka_performance.c -lrdkafka');
    run(
      'gcc',
      ['-O2', '-Isrc', '-o', rdkafkaPerformance, 'examples/rdkafka_performance.c', '-lrdkafka', '-lm'],
      tree,
      'building rdkafka_performance',
    );
  }
  // Its usage text (printed for any unknown option) names the library version it runs against.
  const usage = spawnSync(rdkafkaPerformance, ['-h'], { encoding: 'utf8' });
  const librdkafkaVersion = `${usage.stdout}${usage.stderr}`.match(/librdkafka version (\S+)/)?.[1];
  return { rdkafkaPerformance, mockCluster, librdkafkaVersion: librdkafkaVersion ?? version };
}
