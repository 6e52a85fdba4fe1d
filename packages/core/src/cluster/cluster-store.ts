// The state brokers sharing one store agree on: who is alive (registrations with a lease) and who
// owns what (each data partition and coordinator partition, with an epoch that every takeover
// bumps). A store shared by several brokers implements it (PostgreSQL: rows read and written in
// transactions, leases timed by the database's clock); `MemoryClusterStore` serves brokers in one
// process.
import type { Clock } from '../services.js';
import type { ClusterNode } from './placement.js';

/** A broker's registration: `incarnation` tells a restarted broker from the process it replaces. */
export interface BrokerRegistration {
  readonly node: ClusterNode;
  readonly incarnation: string;
}

/** The owner of a resource and the epoch of its ownership. */
export interface Ownership {
  readonly nodeId: number;
  readonly epoch: number;
}

/** Another live broker holds the node id: two brokers with one id must not both serve. */
export class NodeIdInUseError extends Error {
  constructor(readonly nodeId: number) {
    super(`node id ${nodeId} is already registered by a live broker`);
    this.name = 'NodeIdInUseError';
  }
}

/**
 * What a broker owns: a partition, named by topic and index (`orders:3`). A coordinator owns the
 * partitions of its internal topic the same way, so that the broker owning `__consumer_offsets:7`
 * both leads that partition and coordinates the groups stored in it.
 */
export function partitionResource(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** The internal topic each coordinator keeps its state in. */
export const COORDINATOR_TOPICS = {
  group: '__consumer_offsets',
  transaction: '__transaction_state',
} as const;

export function coordinatorResource(kind: keyof typeof COORDINATOR_TOPICS, partition: number): string {
  return partitionResource(COORDINATOR_TOPICS[kind], partition);
}

export interface ClusterStore {
  /**
   * Registers a broker with a lease of `leaseMs`. Throws NodeIdInUseError while another
   * incarnation holds the node id with a lease that has not expired.
   */
  register(registration: BrokerRegistration, leaseMs: number): Promise<void>;
  /** Extends the lease; false when this incarnation no longer holds the node id (it expired and was taken, or was removed). */
  renew(nodeId: number, incarnation: string, leaseMs: number): Promise<boolean>;
  /** Ends the registration at once (a clean shutdown), if this incarnation still holds it. */
  deregister(nodeId: number, incarnation: string): Promise<void>;
  /** The brokers whose lease has not expired, in node id order. */
  liveBrokers(): Promise<ClusterNode[]>;
  /** Every resource's current owner. */
  owners(): Promise<ReadonlyMap<string, Ownership>>;
  /**
   * Makes `nodeId` the owner of `resource` with the next epoch (1 for a resource never owned) and
   * returns it. Refused (null) unless `nodeId` holds a live registration as `incarnation`, so a
   * broker whose lease ran out cannot take anything.
   */
  claim(resource: string, nodeId: number, incarnation: string): Promise<Ownership | null>;
}

interface Lease {
  node: ClusterNode;
  incarnation: string;
  expiresAt: number;
}

/** A ClusterStore in one process: brokers started side by side share one instance. */
export class MemoryClusterStore implements ClusterStore {
  private readonly leases = new Map<number, Lease>();
  private readonly owned = new Map<string, Ownership>();

  constructor(private readonly clock: Clock) {}

  async register(registration: BrokerRegistration, leaseMs: number): Promise<void> {
    const { node, incarnation } = registration;
    const held = this.live(node.nodeId);
    if (held !== undefined && held.incarnation !== incarnation) throw new NodeIdInUseError(node.nodeId);
    this.leases.set(node.nodeId, { node, incarnation, expiresAt: this.clock.now() + leaseMs });
  }

  async renew(nodeId: number, incarnation: string, leaseMs: number): Promise<boolean> {
    const held = this.live(nodeId);
    if (held === undefined || held.incarnation !== incarnation) return false;
    held.expiresAt = this.clock.now() + leaseMs;
    return true;
  }

  async deregister(nodeId: number, incarnation: string): Promise<void> {
    if (this.leases.get(nodeId)?.incarnation === incarnation) this.leases.delete(nodeId);
  }

  async liveBrokers(): Promise<ClusterNode[]> {
    const now = this.clock.now();
    return [...this.leases.values()]
      .filter((l) => l.expiresAt > now)
      .map((l) => l.node)
      .sort((a, b) => a.nodeId - b.nodeId);
  }

  async owners(): Promise<ReadonlyMap<string, Ownership>> {
    return new Map(this.owned);
  }

  async claim(resource: string, nodeId: number, incarnation: string): Promise<Ownership | null> {
    if (this.live(nodeId)?.incarnation !== incarnation) return null;
    const next = { nodeId, epoch: (this.owned.get(resource)?.epoch ?? 0) + 1 };
    this.owned.set(resource, next);
    return next;
  }

  /** The current epoch of a resource's ownership (0 when never owned): what a fenced write checks. */
  epochOf(resource: string): number {
    return this.owned.get(resource)?.epoch ?? 0;
  }

  private live(nodeId: number): Lease | undefined {
    const lease = this.leases.get(nodeId);
    return lease !== undefined && lease.expiresAt > this.clock.now() ? lease : undefined;
  }
}
