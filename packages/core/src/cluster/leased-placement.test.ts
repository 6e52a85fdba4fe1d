import { describe, expect, it } from 'vitest';
import { ManualClock, silentLogger } from '../services.js';
import {
  coordinatorResource,
  MemoryClusterStore,
  NodeIdInUseError,
  partitionResource,
} from './cluster-store.js';
import { chooseOwner, LeasedPlacement, type OwnershipChange } from './leased-placement.js';
import type { ClusterNode } from './placement.js';

const HEARTBEAT = 1000;
const LEASE = 6000;
const node = (nodeId: number): ClusterNode => ({
  nodeId,
  host: '127.0.0.1',
  port: 9090 + nodeId,
  rack: null,
});
/** 40 data partitions of two topics and 10 coordinator partitions. */
const RESOURCES = [
  ...Array.from({ length: 20 }, (_, p) => partitionResource('topicA', p)),
  ...Array.from({ length: 20 }, (_, p) => partitionResource('topicB', p)),
  ...Array.from({ length: 10 }, (_, p) => coordinatorResource('group', p)),
];

function cluster() {
  const clock = new ManualClock();
  const store = new MemoryClusterStore(clock);
  const changes = new Map<number, OwnershipChange[]>();
  const broker = (id: number) =>
    new LeasedPlacement({
      store,
      self: node(id),
      clock,
      logger: silentLogger,
      heartbeatMs: HEARTBEAT,
      leaseMs: LEASE,
      resources: () => RESOURCES,
      onOwnershipChange: (c) => {
        changes.set(id, [...(changes.get(id) ?? []), c]);
      },
    });
  return { clock, store, changes, broker };
}

/** Every resource's owner as one broker sees it. */
function ownersSeenBy(p: LeasedPlacement): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  for (const r of RESOURCES) {
    const [topic, partition] = r.split(':');
    out.set(r, p.leaderOf(topic!, Number(partition))?.node.nodeId);
  }
  return out;
}

async function refreshAll(...ps: LeasedPlacement[]) {
  for (const p of ps) await p.refresh();
}

describe('LeasedPlacement', () => {
  it('gives one broker everything, at epoch 1', async () => {
    const c = cluster();
    const one = c.broker(1);
    await one.start();
    expect(one.brokers().map((b) => b.nodeId)).toEqual([1]);
    expect(one.leaderOf('topicA', 3)).toEqual({ node: node(1), leaderEpoch: 1 });
    expect(one.coordinatorOf('group', 4)).toEqual(node(1));
    expect(one.leaderOf('__consumer_offsets', 4)).toEqual({ node: node(1), leaderEpoch: 1 });
    expect(c.changes.get(1)![0]!.gained.size).toBe(RESOURCES.length);
    await one.stop();
  });

  it('spreads resources over three brokers, each owned by exactly one, all seen alike', async () => {
    const c = cluster();
    const ps = [c.broker(1), c.broker(2), c.broker(3)];
    for (const p of ps) await p.start();
    // Brokers that started earlier learn of the later ones, and of what they claimed, at their next refresh.
    await refreshAll(...ps);
    const seen = ps.map(ownersSeenBy);
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[2]).toEqual(seen[0]);
    const counts = new Map<number, number>();
    for (const owner of seen[0]!.values()) counts.set(owner!, (counts.get(owner!) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([1, 2, 3]);
    // Rendezvous hashing spreads evenly over many resources; over 50, each broker gets some.
    for (const n of counts.values()) expect(n).toBeGreaterThan(0);
    for (const r of RESOURCES)
      expect(seen[0]!.get(r)).toBe(chooseOwner(r, [node(1), node(2), node(3)])!.nodeId);
    for (const p of ps) await p.stop();
  });

  it('moves only the joining broker’s share, bumping the epoch of what moved', async () => {
    const c = cluster();
    const ps = [c.broker(1), c.broker(2), c.broker(3)];
    for (const p of ps) await p.start();
    await refreshAll(...ps);
    const before = new Map((await c.store.owners()).entries());
    const fourth = c.broker(4);
    await fourth.start();
    await refreshAll(...ps);
    const after = await c.store.owners();
    let moved = 0;
    for (const r of RESOURCES) {
      const b = before.get(r)!;
      const a = after.get(r)!;
      if (a.nodeId === b.nodeId) expect(a.epoch).toBe(b.epoch);
      else {
        moved++;
        expect(a).toEqual({ nodeId: 4, epoch: b.epoch + 1 });
      }
    }
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBe([...after.values()].filter((o) => o.nodeId === 4).length);
    // The others learn they lost those resources.
    const lost = ps.flatMap((p) => c.changes.get(p.self.nodeId)!.at(-1)!.lost);
    expect(lost.length).toBe(moved);
    for (const p of [...ps, fourth]) await p.stop();
  });

  it('hands a broker’s share to the others once its lease expires, with higher epochs', async () => {
    const c = cluster();
    const [a, b, dead] = [c.broker(1), c.broker(2), c.broker(3)];
    for (const p of [a, b, dead]) await p.start();
    await refreshAll(a, b, dead);
    const held = [...(await c.store.owners()).entries()].filter(([, o]) => o.nodeId === 3);
    expect(held.length).toBeGreaterThan(0);
    // Broker 3 stops heartbeating (killed, or paused) without deregistering.
    await dead.stop().catch(() => {});
    await c.store.register({ node: node(3), incarnation: dead.incarnation }, LEASE);
    c.clock.advance(LEASE - 1);
    await refreshAll(a, b);
    expect(a.brokers().map((n) => n.nodeId)).toEqual([1, 2, 3]);
    c.clock.advance(2);
    await refreshAll(a, b);
    await refreshAll(a, b);
    expect(a.brokers().map((n) => n.nodeId)).toEqual([1, 2]);
    const after = await c.store.owners();
    for (const [r, o] of held) {
      expect([1, 2]).toContain(after.get(r)!.nodeId);
      expect(after.get(r)!.epoch).toBe(o.epoch + 1);
    }
    expect(ownersSeenBy(a)).toEqual(ownersSeenBy(b));
    for (const p of [a, b]) await p.stop();
  });

  it('refuses a second live broker with the same node id', async () => {
    const c = cluster();
    await c.broker(1).start();
    await expect(c.broker(1).start()).rejects.toBeInstanceOf(NodeIdInUseError);
  });

  it('fences a broker that was paused past its lease: its claims are refused until it registers again', async () => {
    const c = cluster();
    const paused = c.broker(1);
    await paused.start();
    const epochBefore = paused.leaderOf('topicA', 0)!.leaderEpoch;
    // Paused: it stops heartbeating but keeps its registration and what it believes it owns.
    await paused.stop();
    await c.store.register({ node: node(1), incarnation: paused.incarnation }, LEASE);
    c.clock.advance(LEASE + 1);
    expect(await c.store.claim(partitionResource('topicA', 0), 1, paused.incarnation)).toBeNull();
    const other = c.broker(2);
    await other.start();
    expect(other.leaderOf('topicA', 0)).toEqual({ node: node(2), leaderEpoch: epochBefore + 1 });
    // Resumed, it registers again and takes back only its share, each with a new epoch.
    await paused.refresh();
    await other.refresh();
    const owners = await c.store.owners();
    for (const r of RESOURCES) {
      const o = owners.get(r)!;
      expect(o.nodeId).toBe(chooseOwner(r, [node(1), node(2)])!.nodeId);
      if (o.nodeId === 1) expect(o.epoch).toBeGreaterThan(1);
    }
    expect(ownersSeenBy(paused)).toEqual(ownersSeenBy(other));
  });
});
