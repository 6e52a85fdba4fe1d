// Placement for several brokers sharing one ClusterStore: each broker holds a lease it renews
// every heartbeat, and each resource (data partition, coordinator partition) belongs to the live
// broker that scores highest for it (rendezvous hashing), so a broker joining or leaving moves
// only its own share. A broker claims what it should own, which bumps the resource's epoch in the
// store; writes carry that epoch, so a former owner that has not noticed yet cannot write.
import { randomUUID } from 'node:crypto';
import type { Clock, Logger, TimerHandle } from '../services.js';
import {
  type ClusterStore,
  coordinatorResource,
  NodeIdInUseError,
  type Ownership,
  partitionResource,
} from './cluster-store.js';
import type { ClusterNode, CoordinatorKind, Leadership, PartitionLeader, Placement } from './placement.js';

export interface LeasedPlacementOptions {
  readonly store: ClusterStore;
  readonly self: ClusterNode;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often the lease is renewed and ownership refreshed (about 1 s). */
  readonly heartbeatMs: number;
  /** How long a lease lasts without renewal (5-10 s): a dead broker's share moves after it. */
  readonly leaseMs: number;
  /** Every resource some broker should own now (see `partitionResource`, `coordinatorResource`). */
  readonly resources: () => Iterable<string>;
  /** Runs at the start of each refresh, before `resources` is read (the topic list catches up). */
  readonly beforeRefresh?: () => Promise<unknown>;
  /**
   * Told after each refresh which resources this broker gained and lost (coordinators load and
   * unload their partitions). A refresh waits for it before the next one starts.
   */
  readonly onOwnershipChange?: (change: OwnershipChange) => void | Promise<void>;
}

export interface OwnershipChange {
  readonly gained: ReadonlyMap<string, Ownership>;
  readonly lost: readonly string[];
}

/**
 * The score of `nodeId` for `resource`: FNV-1a over both, then a final mix. Every broker computes
 * the same scores, so they agree on owners given the same live brokers.
 */
export function rendezvousScore(resource: string, nodeId: number): number {
  let h = 0x811c9dc5;
  const s = `${resource}#${nodeId}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The live broker that should own `resource`: the highest score, ties to the lower node id. */
export function chooseOwner(resource: string, live: readonly ClusterNode[]): ClusterNode | null {
  let best: ClusterNode | null = null;
  let bestScore = -1;
  for (const node of live) {
    const score = rendezvousScore(resource, node.nodeId);
    if (score > bestScore || (score === bestScore && best !== null && node.nodeId < best.nodeId)) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}

export class LeasedPlacement implements Placement {
  readonly self: ClusterNode;
  readonly incarnation = randomUUID();
  private live: readonly ClusterNode[] = [];
  private byId = new Map<number, ClusterNode>();
  private owners: ReadonlyMap<string, Ownership> = new Map();
  /** What this broker owns, by resource, with the epoch its writes carry. */
  private mine = new Map<string, Ownership>();
  private timer: TimerHandle | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(private readonly o: LeasedPlacementOptions) {
    this.self = o.self;
  }

  /** Registers this broker (NodeIdInUseError when another live broker has its node id) and takes its share. */
  async start(): Promise<void> {
    await this.o.store.register({ node: this.self, incarnation: this.incarnation }, this.o.leaseMs);
    this.stopped = false;
    await this.refresh();
    this.schedule();
  }

  /** Stops heartbeating and gives up the registration; what this broker owned moves at the others' next refresh. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    await this.running;
    await this.o.store.deregister(this.self.nodeId, this.incarnation);
  }

  brokers(): readonly ClusterNode[] {
    return this.live;
  }

  controllerId(): number {
    return this.live[0]?.nodeId ?? this.self.nodeId;
  }

  leaderOf(topic: string, partition: number): PartitionLeader | null {
    return this.ownerOf(partitionResource(topic, partition));
  }

  coordinatorOf(kind: CoordinatorKind, partition: number): ClusterNode | null {
    return this.ownerOf(coordinatorResource(kind, partition))?.node ?? null;
  }

  leadership(topic: string, partition: number): Leadership | null {
    const owned = this.mine.get(partitionResource(topic, partition));
    return owned === undefined ? null : { epoch: owned.epoch, leaderEpoch: owned.epoch };
  }

  /** Renews the lease, reads the live brokers and owners, claims this broker's share. */
  refresh(): Promise<void> {
    this.running ??= this.refreshOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private ownerOf(resource: string): PartitionLeader | null {
    const owner = this.owners.get(resource);
    const node = owner === undefined ? undefined : this.byId.get(owner.nodeId);
    return owner === undefined || node === undefined ? null : { node, leaderEpoch: owner.epoch };
  }

  private async refreshOnce(): Promise<void> {
    const { store, self } = this.o;
    await this.o.beforeRefresh?.();
    if (!(await store.renew(self.nodeId, this.incarnation, this.o.leaseMs))) {
      // The lease ran out (the process was paused, or the store unreachable): whatever this
      // broker owned has been or will be claimed by others with a higher epoch. Register again.
      this.o.logger.warn({ nodeId: self.nodeId }, 'lease lost; registering again');
      this.mine = new Map();
      try {
        await store.register({ node: self, incarnation: this.incarnation }, this.o.leaseMs);
      } catch (e) {
        if (e instanceof NodeIdInUseError) {
          this.o.logger.error({ nodeId: self.nodeId }, 'another broker took this node id; serving nothing');
          this.live = [];
          this.byId = new Map();
          this.owners = new Map();
          return;
        }
        throw e;
      }
    }
    const live = await store.liveBrokers();
    let owners = await store.owners();
    // This broker's share: claimed unless this incarnation already holds it (an owner recorded
    // under this node id but unknown here is a previous process's, whose epoch must be passed).
    const claims: string[] = [];
    for (const resource of this.o.resources()) {
      if (chooseOwner(resource, live)?.nodeId !== self.nodeId) continue;
      const current = owners.get(resource);
      if (
        current === undefined ||
        current.nodeId !== self.nodeId ||
        this.mine.get(resource)?.epoch !== current.epoch
      )
        claims.push(resource);
    }
    if (claims.length > 0) {
      const next = new Map(owners);
      for (const resource of claims) {
        const won = await store.claim(resource, self.nodeId, this.incarnation);
        if (won !== null) next.set(resource, won);
      }
      owners = next;
    }
    const mine = new Map<string, Ownership>();
    for (const [resource, o] of owners) if (o.nodeId === self.nodeId) mine.set(resource, o);
    const gained = new Map<string, Ownership>();
    for (const [resource, o] of mine) if (this.mine.get(resource)?.epoch !== o.epoch) gained.set(resource, o);
    const lost = [...this.mine.keys()].filter((r) => mine.get(r)?.epoch !== this.mine.get(r)?.epoch);
    this.live = live;
    this.byId = new Map(live.map((n) => [n.nodeId, n]));
    this.owners = owners;
    this.mine = mine;
    if ((gained.size > 0 || lost.length > 0) && this.o.onOwnershipChange !== undefined)
      await this.o.onOwnershipChange({ gained, lost });
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.schedule(this.o.heartbeatMs, () => {
      this.refresh().then(
        () => this.schedule(),
        (e: unknown) => {
          this.o.logger.error({ err: e }, 'cluster refresh failed');
          this.schedule();
        },
      );
    });
  }
}
