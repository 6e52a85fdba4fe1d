// The timing loop for one implementation in one process: warm up, size a round to a fixed duration,
// then time several rounds. Each measurement runs in a fresh process (see codec.bench.ts), so no
// library's JIT feedback or garbage reaches another's figures.

export interface Subject {
  label: string;
  /** One operation; a returned promise is awaited, so async APIs pay for their own promise. */
  run: () => unknown;
}

export interface Options {
  warmupMs: number;
  roundMs: number;
  rounds: number;
}

export interface Measurement {
  /** Median of the rounds, in operations per second. */
  opsPerSec: number;
  rounds: number[];
  opsPerRound: number;
}

let sink: unknown;
/** Keeps results reachable so no call can be optimized away. */
export function consumed(): unknown {
  return sink;
}

const gc = (globalThis as { gc?: () => void }).gc;

async function timeBatch(run: () => unknown, isAsync: boolean, n: number): Promise<number> {
  const start = process.hrtime.bigint();
  if (isAsync) for (let i = 0; i < n; i++) sink = await run();
  else for (let i = 0; i < n; i++) sink = run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function measure(subject: Subject, opts: Options): Promise<Measurement> {
  const { run } = subject;
  const isAsync = run() instanceof Promise;
  // Warm up with growing batches until the time is spent, then size rounds from the observed rate.
  let n = 1;
  let ops = 0;
  let elapsed = 0;
  while (elapsed < opts.warmupMs) {
    elapsed += await timeBatch(run, isAsync, n);
    ops += n;
    n = Math.min(n * 2, 1 << 20);
  }
  const opsPerRound = Math.max(1, Math.round((ops / elapsed) * opts.roundMs));
  const rounds: number[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    gc?.();
    const ms = await timeBatch(run, isAsync, opsPerRound);
    rounds.push((opsPerRound * 1000) / ms);
  }
  return { opsPerSec: median(rounds), rounds, opsPerRound };
}
