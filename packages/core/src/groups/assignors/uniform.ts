import {
  type AssignmentSpec,
  addPartition,
  type MutableAssignment,
  removePartition,
  type ServerAssignor,
} from './assignor.js';

/**
 * The uniform assignor (the default): spreads every subscribed partition over the members that
 * subscribe to its topic so that member loads differ by at most one where subscriptions allow,
 * while moving as few partitions as possible from the previous target. Identical subscriptions
 * (the usual case) take a linear path; different ones the general one below.
 */
export class UniformAssignor implements ServerAssignor {
  readonly name = 'uniform';

  assign(spec: AssignmentSpec): Map<string, MutableAssignment> {
    return isHomogeneous(spec) ? assignHomogeneous(spec) : assignGeneral(spec);
  }
}

/** Whether every member subscribes to the same existing topics. */
function isHomogeneous(spec: AssignmentSpec): boolean {
  const first = spec.members[0];
  if (first === undefined) return true;
  const topics = [...first.subscribedTopicIds].filter((t) => spec.partitionCounts.has(t));
  for (const m of spec.members) {
    let n = 0;
    for (const t of m.subscribedTopicIds) if (spec.partitionCounts.has(t)) n++;
    if (n !== topics.length || !topics.every((t) => m.subscribedTopicIds.has(t))) return false;
  }
  return true;
}

/**
 * Identical subscriptions: every member gets floor(P / N) partitions and P mod N of them one
 * more. Each keeps what it had up to its quota (an extra one while extras last), and the rest is
 * dealt round-robin to the members still short, in member order. Linear in partitions and members.
 */
function assignHomogeneous(spec: AssignmentSpec): Map<string, MutableAssignment> {
  const out = new Map<string, MutableAssignment>();
  const n = spec.members.length;
  if (n === 0) return out;
  const topics = [...spec.members[0]!.subscribedTopicIds].filter((t) => spec.partitionCounts.has(t)).sort();
  let total = 0;
  for (const t of topics) total += spec.partitionCounts.get(t)!;
  const quota = Math.floor(total / n);
  let extras = total % n;
  const taken = new Map<string, Set<number>>(topics.map((t) => [t, new Set<number>()]));
  const counts: number[] = [];
  spec.members.forEach((m) => {
    const mine: MutableAssignment = new Map();
    out.set(m.memberId, mine);
    const valid: [string, number][] = [];
    for (const t of topics) {
      const count = spec.partitionCounts.get(t)!;
      for (const p of [...(m.current.get(t) ?? [])].sort((a, b) => a - b))
        if (p < count && !taken.get(t)!.has(p)) valid.push([t, p]);
    }
    let keep = Math.min(valid.length, quota);
    if (valid.length > quota && extras > 0) {
      keep++;
      extras--;
    }
    for (let i = 0; i < keep; i++) {
      const [t, p] = valid[i]!;
      taken.get(t)!.add(p);
      addPartition(mine, t, p);
    }
    counts.push(keep);
  });
  // Members still short, dealt to in turns: first up to the quota, then the extras in order.
  let next = 0;
  const wants = (i: number) => counts[i]! < quota || (counts[i]! === quota && extras > 0);
  for (const t of topics) {
    const count = spec.partitionCounts.get(t)!;
    for (let p = 0; p < count; p++) {
      if (taken.get(t)!.has(p)) continue;
      let tries = 0;
      while (!wants(next) && tries++ < n) next = (next + 1) % n;
      // Quotas add up to the partition count, so someone always wants one.
      if (counts[next] === quota) extras--;
      counts[next]!++;
      addPartition(out.get(spec.members[next]!.memberId)!, t, p);
      next = (next + 1) % n;
    }
  }
  return out;
}

/**
 * Different subscriptions:
 *
 * 1. Each member keeps the partitions of its previous target that still exist and that it still
 *    subscribes to.
 * 2. Partitions left over go, those with the fewest candidate members first, to the least loaded
 *    candidate (ties in member id order).
 * 3. While a member holds two or more partitions more than a candidate for one of them, its
 *    highest such partition moves to the least loaded candidate.
 */
function assignGeneral(spec: AssignmentSpec): Map<string, MutableAssignment> {
  const out = new Map<string, MutableAssignment>();
  const load = new Map<string, number>();
  const order = new Map<string, number>();
  /** topic id -> member ids subscribed to it, in member order. */
  const candidates = new Map<string, string[]>();
  spec.members.forEach((m, i) => {
    out.set(m.memberId, new Map());
    load.set(m.memberId, 0);
    order.set(m.memberId, i);
    for (const t of m.subscribedTopicIds) {
      if (!spec.partitionCounts.has(t)) continue;
      let list = candidates.get(t);
      if (list === undefined) {
        list = [];
        candidates.set(t, list);
      }
      list.push(m.memberId);
    }
  });
  const owner = new Map<string, string>();
  const key = (t: string, p: number) => `${t}:${p}`;
  // 1. Keep what is still valid.
  for (const m of spec.members)
    for (const [t, ps] of m.current) {
      const count = spec.partitionCounts.get(t);
      if (count === undefined || !m.subscribedTopicIds.has(t)) continue;
      for (const p of [...ps].sort((a, b) => a - b)) {
        if (p >= count || owner.has(key(t, p))) continue;
        owner.set(key(t, p), m.memberId);
        addPartition(out.get(m.memberId)!, t, p);
        load.set(m.memberId, load.get(m.memberId)! + 1);
      }
    }
  const leastLoaded = (ids: readonly string[]): string => {
    let best = ids[0]!;
    for (const id of ids) if (load.get(id)! < load.get(best)!) best = id;
    return best;
  };
  // 2. Hand out the rest, the most constrained partitions first.
  const topics = [...candidates.keys()].sort(
    (a, b) => candidates.get(a)!.length - candidates.get(b)!.length || (a < b ? -1 : a > b ? 1 : 0),
  );
  for (const t of topics) {
    const ids = candidates.get(t)!;
    const count = spec.partitionCounts.get(t)!;
    for (let p = 0; p < count; p++) {
      if (owner.has(key(t, p))) continue;
      const id = leastLoaded(ids);
      owner.set(key(t, p), id);
      addPartition(out.get(id)!, t, p);
      load.set(id, load.get(id)! + 1);
    }
  }
  // 3. Balance. Each move lowers the sum of squared loads, so this ends; the bound is a guard.
  const total = owner.size;
  for (let moves = 0; moves < total * spec.members.length + 1; moves++) {
    let moved = false;
    const byLoad = [...spec.members].sort(
      (a, b) =>
        load.get(b.memberId)! - load.get(a.memberId)! || order.get(a.memberId)! - order.get(b.memberId)!,
    );
    for (const m of byLoad) {
      const from = m.memberId;
      const assignment = out.get(from)!;
      const mine: [string, number][] = [];
      for (const [t, ps] of assignment) for (const p of ps) mine.push([t, p]);
      // Highest partitions move first, so members keep the low ones they started with.
      mine.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0));
      for (const [t, p] of mine) {
        const to = leastLoaded(candidates.get(t)!);
        if (load.get(to)! + 1 < load.get(from)!) {
          removePartition(assignment, t, p);
          addPartition(out.get(to)!, t, p);
          load.set(from, load.get(from)! - 1);
          load.set(to, load.get(to)! + 1);
          owner.set(key(t, p), to);
          moved = true;
          break;
        }
      }
      if (moved) break;
    }
    if (!moved) break;
  }
  return out;
}
