// Which broker serves what: the brokers clients are told about, the leader of each partition and
// the owner of each coordinator partition (of __consumer_offsets and __transaction_state). Handlers
// ask the placement instead of assuming this broker serves everything, so that several brokers can
// share one store.
import type { BrokerConfig } from '../broker/config.js';

/** A broker as clients reach it. */
export interface ClusterNode {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

/** The broker leading a partition, and its leader epoch (what clients fence fetches with). */
export interface PartitionLeader {
  readonly node: ClusterNode;
  readonly leaderEpoch: number;
}

/** The coordinators, each over the partitions of its internal topic. */
export type CoordinatorKind = 'group' | 'transaction';

export interface Placement {
  /** This broker. */
  readonly self: ClusterNode;
  /** The live brokers, this one included, in node id order. */
  brokers(): readonly ClusterNode[];
  /** The broker Metadata and DescribeCluster name as the controller. */
  controllerId(): number;
  /** The leader of a partition, by topic name; null while none is live. */
  leaderOf(topic: string, partition: number): PartitionLeader | null;
  /** The broker owning one partition of a coordinator's internal topic; null while none is live. */
  coordinatorOf(kind: CoordinatorKind, partition: number): ClusterNode | null;
  /**
   * Whether this broker leads the partition: null when it does not (NOT_LEADER_OR_FOLLOWER),
   * otherwise the ownership epoch its writes carry, which a store shared by several brokers checks
   * in the same transaction as the write (undefined: one broker alone, nothing to check).
   */
  leadership(topic: string, partition: number): Leadership | null;
}

export interface Leadership {
  /** The ownership epoch writes carry; undefined when nothing checks it (one broker alone). */
  readonly epoch: number | undefined;
  /** The leader epoch clients see and send back (equal to `epoch` when there is one). */
  readonly leaderEpoch: number;
}

const UNFENCED: Leadership = { epoch: undefined, leaderEpoch: 0 };

/** One broker that leads every partition and owns every coordinator partition, at leader epoch 0. */
export class SingleNodePlacement implements Placement {
  readonly self: ClusterNode;
  private readonly leader: PartitionLeader;
  private readonly all: readonly ClusterNode[];

  constructor(config: Pick<BrokerConfig, 'nodeId' | 'advertisedHost' | 'advertisedPort' | 'rack'>) {
    this.self = {
      nodeId: config.nodeId,
      host: config.advertisedHost,
      port: config.advertisedPort,
      rack: config.rack,
    };
    this.leader = { node: this.self, leaderEpoch: 0 };
    this.all = [this.self];
  }

  brokers(): readonly ClusterNode[] {
    return this.all;
  }

  controllerId(): number {
    return this.self.nodeId;
  }

  leaderOf(): PartitionLeader {
    return this.leader;
  }

  coordinatorOf(): ClusterNode {
    return this.self;
  }

  leadership(): Leadership {
    return UNFENCED;
  }
}
