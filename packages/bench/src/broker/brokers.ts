// The brokers under load, each in its own process so its CPU time can be read from /proc: Tributary
// (any command that prints `{"bootstrap":"host:port"}` on one stdout line and stops when its stdin
// closes) and librdkafka's mock cluster.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin } from '@platformatic/kafka';
import { processCpuSeconds } from './stats.js';

export interface TopicSpec {
  name: string;
  partitions: number;
}

export interface RunningBroker {
  readonly label: string;
  readonly bootstrap: string;
  /** The process doing the broker's work (the command may be a wrapper that starts it). */
  readonly pid: number;
  /** CPU seconds (user + system) the broker process has used so far. */
  cpuSeconds(): number;
  /** Resident memory in MiB. */
  rssMiB(): number;
  /** Sends one line to the broker's stdin (the default launcher takes profiler commands there). */
  command(line: string): void;
  /**
   * Sends a command and waits for the JSON line on stdout carrying `key`; null when none comes
   * within `timeoutMs` (brokers other than the default launcher do not answer).
   */
  query(line: string, key: string, timeoutMs?: number): Promise<unknown>;
  stop(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The `tributary` command (apps/broker) from source, in memory, on a free port, with no admin port.
 * It announces itself with its pino start line and stops on SIGTERM.
 */
export function tributaryCliCommand(): { argv: string[]; cwd: string } {
  return {
    argv: [
      process.execPath,
      '--conditions=@tributary/source',
      '--import',
      'tsx',
      'src/main.ts',
      '--memory',
      '--port',
      '0',
      '--admin-port',
      '-1',
    ],
    cwd: join(here, '..', '..', '..', '..', 'apps', 'broker'),
  };
}

/** The default Tributary broker command: the launcher script, run from source through tsx. */
export function defaultTributaryCommand(nodeFlags: readonly string[] = []): string[] {
  return [
    process.execPath,
    ...nodeFlags,
    '--conditions=@tributary/source',
    '--import',
    'tsx',
    join(here, 'tributary-broker.ts'),
  ];
}

function rssMiB(pid: number): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Starts a broker command and waits (at most `startTimeoutMs`) for its bootstrap line. */
async function startProcess(
  label: string,
  argv: readonly string[],
  cwd: string,
  startTimeoutMs = 30_000,
): Promise<RunningBroker> {
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (b: Buffer) => {
    stderr.push(b.toString('utf8'));
    if (stderr.length > 50) stderr.shift();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = new JsonLines();
  child.stdout!.on('data', (b: Buffer) => lines.push(b));
  const announced = await new Promise<{ bootstrap: string; pid?: number }>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${label} broker (${argv.join(' ')}) ${why}\n${stderr.join('').slice(-2000)}`));
    };
    const timer = setTimeout(
      () => fail(`printed no bootstrap line within ${startTimeoutMs} ms`),
      startTimeoutMs,
    );
    child.once('error', (e) => fail(`failed to start: ${e.message}`));
    const early = (code: number | null) => fail(`exited with ${code} before listening`);
    child.once('exit', early);
    void lines.next(startLine, startTimeoutMs).then((start) => {
      if (start === null) return;
      clearTimeout(timer);
      child.off('exit', early);
      resolve(start);
    });
  });
  const pid = announced.pid ?? child.pid!;
  return {
    label,
    bootstrap: announced.bootstrap,
    pid,
    cpuSeconds: () => processCpuSeconds(pid),
    rssMiB: () => rssMiB(pid),
    command(line) {
      child.stdin!.write(`${line}\n`);
    },
    query(line, key, timeoutMs = 5_000) {
      const answer = lines.next((parsed) => parsed[key], timeoutMs);
      child.stdin!.write(`${line}\n`);
      return answer;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // The launcher stops when its stdin closes, the tributary command on SIGTERM.
      child.stdin!.end();
      child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(hard);
    },
  };
}

/**
 * The bootstrap address (and the broker's pid, when a wrapper names it) from a start line: the
 * launcher's `{"bootstrap":..}` or the tributary command's pino line, which names the Kafka
 * listener `kafka` (its `pid` is the command's own).
 */
function startLine(parsed: Record<string, unknown>): { bootstrap: string; pid?: number } | undefined {
  if (parsed.msg === 'tributary started' && typeof parsed.kafka === 'string')
    return { bootstrap: parsed.kafka };
  if (typeof parsed.bootstrap !== 'string') return undefined;
  return { bootstrap: parsed.bootstrap, ...(typeof parsed.pid === 'number' && { pid: parsed.pid }) };
}

/** The JSON lines a broker prints, each handed to the first waiter it matches. */
class JsonLines {
  private buffered = '';
  private waiting: {
    match: (parsed: Record<string, unknown>) => unknown;
    resolve: (value: unknown) => void;
  }[] = [];

  push(chunk: Buffer): void {
    this.buffered += chunk.toString('utf8');
    for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
      const line = this.buffered.slice(0, nl).trim();
      this.buffered = this.buffered.slice(nl + 1);
      if (!line.startsWith('{') || this.waiting.length === 0) continue;
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      for (const entry of this.waiting) {
        const value = entry.match(parsed);
        if (value === undefined) continue;
        this.waiting = this.waiting.filter((w) => w !== entry);
        entry.resolve(value);
        break;
      }
    }
  }

  /** The first line for which `match` gives a value, that value; null after `timeoutMs`. */
  next<T>(match: (parsed: Record<string, unknown>) => T | undefined, timeoutMs: number): Promise<T | null> {
    return new Promise((resolve) => {
      const entry = {
        match,
        resolve: (value: unknown) => {
          clearTimeout(timer);
          resolve(value as T);
        },
      };
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w !== entry);
        resolve(null);
      }, timeoutMs);
      this.waiting.push(entry);
    });
  }
}

/** Creates topics over the Kafka protocol, so any broker command works. */
export async function createTopics(bootstrap: string, topics: readonly TopicSpec[]): Promise<void> {
  const admin = new Admin({ clientId: 'bench-broker-admin', bootstrapBrokers: [bootstrap], retries: 3 });
  try {
    for (const t of topics)
      await admin.createTopics({ topics: [t.name], partitions: t.partitions, replicas: 1 });
  } finally {
    await admin.close();
  }
}

export async function startTributary(
  argv: readonly string[],
  topics: readonly TopicSpec[],
  cwd: string,
): Promise<RunningBroker> {
  const broker = await startProcess('tributary', argv, cwd);
  try {
    await createTopics(broker.bootstrap, topics);
  } catch (e) {
    await broker.stop();
    throw e;
  }
  return broker;
}

export function startMock(bin: string, topics: readonly TopicSpec[], cwd: string): Promise<RunningBroker> {
  return startProcess('mock', [bin, ...topics.map((t) => `${t.name}:${t.partitions}`)], cwd);
}
