// Several passes of the same scenarios on a shared machine: the figure kept for each broker and
// scenario is the pass with the median result, with the spread of all passes beside it.

export interface PassRow {
  broker: string;
  scenario: string;
  msgsPerSec: number;
  /** For latency rows, which have no rate worth ranking: the p99 that ranks them. */
  rankBy?: number;
}

export interface Spread {
  passes: number;
  /** The lowest and highest value of the ranking figure over the passes. */
  low: number;
  high: number;
}

/**
 * Keeps, per broker and scenario, the row whose ranking figure (`rankBy` when set, else msg/s) is
 * the median of the passes (the lower middle one for an even count); rows that failed (NaN) rank
 * last. Order follows the first pass.
 */
export function medianPass<R extends PassRow>(rows: readonly R[]): (R & { spread: Spread })[] {
  const groups = new Map<string, R[]>();
  for (const r of rows) {
    const key = `${r.broker}\u0000${r.scenario}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const rank = (r: R) => r.rankBy ?? r.msgsPerSec;
  const out: (R & { spread: Spread })[] = [];
  for (const g of groups.values()) {
    const finite = g.filter((r) => Number.isFinite(rank(r))).sort((a, b) => rank(a) - rank(b));
    if (finite.length === 0) {
      out.push({ ...g[0]!, spread: { passes: g.length, low: Number.NaN, high: Number.NaN } });
      continue;
    }
    const mid = finite[(finite.length - 1) >> 1]!;
    out.push({
      ...mid,
      spread: { passes: g.length, low: rank(finite[0]!), high: rank(finite[finite.length - 1]!) },
    });
  }
  return out;
}

export interface PassRatio {
  /** The median over the passes of (scenario rate / baseline rate), each taken within one pass. */
  median: number;
  low: number;
  high: number;
  /** Passes in which both ran. */
  passes: number;
}

/**
 * A scenario's rate against its baseline's for one broker. The ratio is taken within each pass,
 * where both ran on the same broker under the same load, and the median of those is kept (the
 * lower middle one for an even count); null when no pass has both.
 */
export function passRatio<R extends PassRow & { pass?: number }>(
  rows: readonly R[],
  broker: string,
  scenario: string,
  baseline: string,
): PassRatio | null {
  const ratios: number[] = [];
  const passes = new Set(rows.filter((r) => r.broker === broker).map((r) => r.pass ?? 1));
  for (const pass of passes) {
    const of = (id: string) =>
      rows.find((r) => r.broker === broker && r.scenario === id && (r.pass ?? 1) === pass);
    const a = of(scenario)?.msgsPerSec;
    const b = of(baseline)?.msgsPerSec;
    if (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0) {
      ratios.push(a / b);
    }
  }
  if (ratios.length === 0) return null;
  ratios.sort((x, y) => x - y);
  return {
    median: ratios[(ratios.length - 1) >> 1]!,
    low: ratios[0]!,
    high: ratios[ratios.length - 1]!,
    passes: ratios.length,
  };
}
