// Small figures helpers for the broker bench: percentiles over latency samples and /proc readings.
import { readFileSync } from 'node:fs';

/** Nearest-rank percentile of ascending-sorted samples; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Summarizes latencies given in microseconds as milliseconds. */
export function summarizeMicros(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50Ms: percentile(sorted, 50) / 1000,
    p99Ms: percentile(sorted, 99) / 1000,
    maxMs: (sorted[sorted.length - 1] ?? Number.NaN) / 1000,
  };
}

/** Parses a file of one integer per line (rdkafka_performance's `-A` latency file, microseconds). */
export function parseLatencyFile(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    const n = Number(t);
    if (Number.isFinite(n)) out.push(n);
  }
  return out;
}

/**
 * utime + stime of a process, in clock ticks, from the text of `/proc/<pid>/stat`. The command
 * name (field 2) is in parentheses and may itself hold spaces or parentheses, so fields are
 * counted from the last `)`.
 */
export function parseProcStatCpuTicks(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc stat: ${stat}`);
  return utime + stime;
}

/** Linux's USER_HZ: 100 on every mainstream architecture, which is what /proc reports ticks in. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds a live process has used so far (user + system). */
export function processCpuSeconds(pid: number): number {
  return parseProcStatCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / CLOCK_TICKS_PER_SECOND;
}

/** The 1, 5 and 15 minute load averages. */
export function loadAverage(): [number, number, number] {
  try {
    const [a, b, c] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
    return [a ?? Number.NaN, b ?? Number.NaN, c ?? Number.NaN];
  } catch {
    return [Number.NaN, Number.NaN, Number.NaN];
  }
}
