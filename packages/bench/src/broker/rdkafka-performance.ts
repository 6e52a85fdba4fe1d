// Runs librdkafka's rdkafka_performance and reads its summary line.
import { spawn } from 'node:child_process';

export interface RdkafkaSummary {
  mode: 'produce' | 'consume';
  /** Messages delivered (producer: acknowledged) or consumed. */
  messages: number;
  bytes: number;
  elapsedMs: number;
  msgsPerSec: number;
  /** 10^6 bytes per second, as rdkafka_performance prints it. */
  mbPerSec: number;
  failed: number;
}

const PRODUCED =
  /% (\d+) messages produced \((\d+) bytes\), (\d+) delivered \(offset -?\d+, (\d+) failed\) in (\d+)ms: (\d+) msgs\/s and ([\d.]+) MB\/s/;
const CONSUMED = /% (\d+) messages \((\d+) bytes\) consumed in (\d+)ms: (\d+) msgs\/s \(([\d.]+) MB\/s\)/;

/**
 * The last summary line in rdkafka_performance's output (it prints one per display interval with
 * `-v`, and always one at the end); null when there is none.
 */
export function parseSummary(output: string): RdkafkaSummary | null {
  let found: RdkafkaSummary | null = null;
  for (const line of output.split('\n')) {
    const p = PRODUCED.exec(line);
    if (p) {
      const delivered = Number(p[3]);
      const messages = Number(p[1]);
      found = {
        mode: 'produce',
        messages: delivered,
        bytes: messages > 0 ? Math.round((Number(p[2]) * delivered) / messages) : 0,
        elapsedMs: Number(p[5]),
        msgsPerSec: Number(p[6]),
        mbPerSec: Number(p[7]),
        failed: Number(p[4]),
      };
      continue;
    }
    const c = CONSUMED.exec(line);
    if (c) {
      found = {
        mode: 'consume',
        messages: Number(c[1]),
        bytes: Number(c[2]),
        elapsedMs: Number(c[3]),
        msgsPerSec: Number(c[4]),
        mbPerSec: Number(c[5]),
        failed: 0,
      };
    }
  }
  return found;
}

export interface RunResult {
  output: string;
  exitCode: number | null;
  timedOut: boolean;
  wallMs: number;
}

/**
 * Runs the tool with a hard time limit: at the limit it is sent SIGINT (it stops and prints its
 * summary so far), and SIGKILL 5 s later if still running.
 */
export function runTool(bin: string, args: readonly string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.stderr.on('data', (b: Buffer) => chunks.push(b));
    let timedOut = false;
    let kill: NodeJS.Timeout | undefined;
    const limit = setTimeout(() => {
      timedOut = true;
      child.kill('SIGINT');
      kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(limit);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(limit);
      if (kill) clearTimeout(kill);
      resolve({
        output: Buffer.concat(chunks).toString('utf8'),
        exitCode: code,
        timedOut,
        wallMs: performance.now() - started,
      });
    });
  });
}
