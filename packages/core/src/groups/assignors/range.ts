import {
  type AssignmentMember,
  type AssignmentSpec,
  addPartition,
  type MutableAssignment,
  type ServerAssignor,
} from './assignor.js';

/**
 * The range assignor: per topic, the subscribed members (in member id order) each take a
 * contiguous range of partitions, the first `partitions % members` of them one more. Topics with
 * equal partition counts and subscribers are therefore split identically, which keeps
 * co-partitioned topics joinable. It is sticky within those quotas: a member keeps its lowest
 * numbered partitions of a topic up to its quota, and only the rest is handed out in ranges.
 */
export class RangeAssignor implements ServerAssignor {
  readonly name = 'range';

  assign(spec: AssignmentSpec): Map<string, MutableAssignment> {
    const out = new Map<string, MutableAssignment>();
    for (const m of spec.members) out.set(m.memberId, new Map());
    const byTopic = new Map<string, AssignmentMember[]>();
    for (const m of spec.members)
      for (const t of m.subscribedTopicIds) {
        if (!spec.partitionCounts.has(t)) continue;
        let list = byTopic.get(t);
        if (list === undefined) {
          list = [];
          byTopic.set(t, list);
        }
        list.push(m);
      }
    for (const [topicId, members] of byTopic) {
      const partitions = spec.partitionCounts.get(topicId)!;
      const quota = Math.floor(partitions / members.length);
      let extras = partitions % members.length;
      const kept = new Set<number>();
      const unfilled: { memberId: string; remaining: number }[] = [];
      for (const m of members) {
        const owned = [...(m.current.get(topicId) ?? [])].filter((p) => p < partitions).sort((a, b) => a - b);
        const target = out.get(m.memberId)!;
        const retained = Math.min(owned.length, quota);
        for (let i = 0; i < retained; i++) {
          kept.add(owned[i]!);
          addPartition(target, topicId, owned[i]!);
        }
        const remaining = quota - owned.length;
        if (remaining < 0 && extras > 0) {
          // It held more than the quota: it keeps one more as its share of the extras.
          extras--;
          kept.add(owned[quota]!);
          addPartition(target, topicId, owned[quota]!);
        } else if (remaining >= 0) {
          unfilled.push({ memberId: m.memberId, remaining });
        }
      }
      const free: number[] = [];
      for (let p = 0; p < partitions; p++) if (!kept.has(p)) free.push(p);
      let next = 0;
      for (const u of unfilled) {
        let n = u.remaining;
        if (extras > 0) {
          n++;
          extras--;
        }
        const target = out.get(u.memberId)!;
        for (let i = 0; i < n && next < free.length; i++) addPartition(target, topicId, free[next++]!);
      }
    }
    return out;
  }
}
