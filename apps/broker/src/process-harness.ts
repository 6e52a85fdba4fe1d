// Runs the `tributary` command as a child process, from source (through tsx), and reads its JSON
// log lines: for this repository's tests, which start, signal and kill real broker processes.
// Exported as `@tributary/broker/process-harness`.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// src/ and dist/ both sit one level below the package directory.
const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
const WAIT_MS = 20_000;

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export class TributaryProcess {
  readonly logs: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters: { test: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];

  private constructor(readonly child: ChildProcess) {
    let pending = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
        const text = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { level: 0, msg: text };
        }
        this.logs.push(line);
        for (const w of this.waiters.splice(0)) {
          if (w.test(line)) w.resolve(line);
          else this.waiters.push(w);
        }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static start(args: readonly string[], env: Record<string, string> = {}): TributaryProcess {
    const child = spawn(
      process.execPath,
      ['--conditions=@tributary/source', '--import', 'tsx', 'src/main.ts', ...args],
      { cwd: APP_DIR, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return new TributaryProcess(child);
  }

  /** Resolves with the first log line (already written or still to come) that passes `test`. */
  waitForLog(test: (line: LogLine) => boolean, timeoutMs = WAIT_MS): Promise<LogLine> {
    const seen = this.logs.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${this.stderr}`)),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      void this.exited.then(() =>
        setTimeout(() => reject(new Error(`exited before the log line; stderr: ${this.stderr}`)), 50),
      );
    });
  }

  /** Waits for start-up and returns the Kafka and admin addresses from the start-up log line. */
  async started(timeoutMs = WAIT_MS): Promise<{ kafka: string; admin: string | null; clusterId: string }> {
    const line = await this.waitForLog((l) => l.msg === 'tributary started', timeoutMs);
    return {
      kafka: line.kafka as string,
      admin: line.admin as string | null,
      clusterId: line.clusterId as string,
    };
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

/** Every process started, killed after the test if still running. */
export const processes: TributaryProcess[] = [];

export function startTributary(args: readonly string[], env?: Record<string, string>): TributaryProcess {
  const p = TributaryProcess.start(args, env);
  processes.push(p);
  return p;
}
