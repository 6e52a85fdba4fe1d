import { describe, expect, it } from 'vitest';
import type { Assignment } from './assignors/assignor.js';
import { FencedMemberError, type MemberAssignmentState, MemberState, reconcile } from './reconciliation.js';

const a = (o: Record<string, number[]>): Assignment =>
  new Map(Object.entries(o).map(([t, ps]) => [t, new Set(ps)]));
const plain = (x: Assignment) => Object.fromEntries([...x].map(([t, ps]) => [t, [...ps].sort()]));
const member = (over: Partial<MemberAssignmentState> = {}): MemberAssignmentState => ({
  state: MemberState.Stable,
  memberEpoch: 1,
  assigned: a({}),
  pendingRevocation: a({}),
  ...over,
});
const free = () => -1;

describe('reconciliation', () => {
  it('keeps a member already at the target epoch as it is', () => {
    const m = member({ assigned: a({ t: [0] }) });
    expect(
      reconcile({ member: m, targetEpoch: 1, target: a({ t: [0, 1] }), partitionEpoch: free, owned: null }),
    ).toBe(m);
  });

  it('assigns free partitions and moves to the target epoch', () => {
    const next = reconcile({
      member: member(),
      targetEpoch: 2,
      target: a({ t: [0, 1] }),
      partitionEpoch: free,
      owned: a({}),
    });
    expect(next.state).toBe(MemberState.Stable);
    expect(next.memberEpoch).toBe(2);
    expect(plain(next.assigned)).toEqual({ t: [0, 1] });
  });

  it('revokes first, keeping its epoch, and is assigned only once its heartbeat drops the revoked partitions', () => {
    const m = member({ assigned: a({ t: [0, 1] }) });
    const revoking = reconcile({
      member: m,
      targetEpoch: 2,
      target: a({ t: [0, 2] }),
      partitionEpoch: free,
      owned: a({ t: [0, 1] }),
    });
    expect(revoking.state).toBe(MemberState.UnrevokedPartitions);
    expect(revoking.memberEpoch).toBe(1);
    expect(plain(revoking.assigned)).toEqual({ t: [0] });
    expect(plain(revoking.pendingRevocation)).toEqual({ t: [1] });
    // Still reporting partition 1: no progress.
    const still = reconcile({
      member: revoking,
      targetEpoch: 2,
      target: a({ t: [0, 2] }),
      partitionEpoch: free,
      owned: a({ t: [0, 1] }),
    });
    expect(still).toBe(revoking);
    const done = reconcile({
      member: revoking,
      targetEpoch: 2,
      target: a({ t: [0, 2] }),
      partitionEpoch: free,
      owned: a({ t: [0] }),
    });
    expect(done.state).toBe(MemberState.Stable);
    expect(done.memberEpoch).toBe(2);
    expect(plain(done.assigned)).toEqual({ t: [0, 2] });
  });

  it('waits for partitions another member still holds', () => {
    const heldByOther = (_t: string, p: number) => (p === 1 ? 1 : -1);
    const next = reconcile({
      member: member(),
      targetEpoch: 2,
      target: a({ t: [0, 1] }),
      partitionEpoch: heldByOther,
      owned: a({}),
    });
    expect(next.state).toBe(MemberState.UnreleasedPartitions);
    expect(next.memberEpoch).toBe(2);
    expect(plain(next.assigned)).toEqual({ t: [0] });
    const released = reconcile({
      member: next,
      targetEpoch: 2,
      target: a({ t: [0, 1] }),
      partitionEpoch: free,
      owned: a({ t: [0] }),
    });
    expect(released.state).toBe(MemberState.Stable);
    expect(plain(released.assigned)).toEqual({ t: [0, 1] });
  });

  it('skips the revocation step when the heartbeat shows the partitions already gone', () => {
    const m = member({ assigned: a({ t: [0, 1] }) });
    const next = reconcile({
      member: m,
      targetEpoch: 2,
      target: a({ t: [0] }),
      partitionEpoch: free,
      owned: a({ t: [0] }),
    });
    expect(next.state).toBe(MemberState.Stable);
    expect(next.memberEpoch).toBe(2);
  });

  it('fences a member in an unknown state that still claims partitions', () => {
    const m = member({ state: MemberState.Unknown });
    expect(() =>
      reconcile({ member: m, targetEpoch: 2, target: a({}), partitionEpoch: free, owned: a({ t: [0] }) }),
    ).toThrow(FencedMemberError);
  });
});
