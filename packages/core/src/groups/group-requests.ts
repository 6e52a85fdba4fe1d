// What the group coordinator's pieces take and answer, shared by the handlers, the facade and the
// protocols; and the one way a piece refuses a request: it throws a GroupError with Kafka's code,
// which the entry point turns into its answer.
import type { MemberProtocol } from './classic-group.js';

/**
 * The error a group request gets while the coordinator cannot serve the group (it is loading,
 * closed, or another broker holds the group's partition), or null when it can. Without a group id:
 * whether the coordinator serves at all.
 */
export interface CoordinatorAvailability {
  unavailableError(groupId?: string): number | null;
  readonly isActive: boolean;
}

/** A request the coordinator refuses, with Kafka's error code and (where Kafka gives one) message. */
export class GroupError extends Error {
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
  }
}

/** The Kafka error code of a refusal; anything else is a bug and is thrown on. */
export function refusalCode(e: unknown): number {
  if (e instanceof GroupError) return e.code;
  throw e;
}

// ---- classic protocol -----------------------------------------------------------------------------

export interface JoinGroupInput {
  readonly groupId: string;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly protocolType: string;
  readonly protocols: readonly MemberProtocol[];
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly clientId: string;
  readonly clientHost: string;
  /** JoinGroup v4+ without an instance id: a new member first gets MEMBER_ID_REQUIRED and its id. */
  readonly requireKnownMemberId: boolean;
  /** JoinGroup v9+: a static leader rejoining a stable group may be told to skip the assignment. */
  readonly supportsSkippingAssignment: boolean;
}

export interface SyncGroupInput {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignments: readonly { readonly memberId: string; readonly assignment: Buffer }[];
}

export interface MemberIdentity {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface LeaveOutcome {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

// ---- offsets --------------------------------------------------------------------------------------

export interface OffsetCommitInput {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** OffsetCommit v2-v4's retention_time_ms; -1 for the broker's retention. */
  readonly retentionTimeMs: number;
  /** The request's version: v9+ answers GROUP_ID_NOT_FOUND where older ones get ILLEGAL_GENERATION. */
  readonly apiVersion: number;
  readonly offsets: readonly {
    readonly topic: string;
    readonly partition: number;
    readonly offset: number;
    readonly leaderEpoch: number;
    readonly metadata: string | null;
  }[];
}

/** TxnOffsetCommit: offsets a producer commits to a group as part of its transaction. */
export interface TxnOffsetCommitInput {
  readonly groupId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  /** v3+: the committing consumer's generation and member; -1, '' and null before. */
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly offsets: OffsetCommitInput['offsets'];
}

/** How a transaction ended, as its marker says. */
export type TransactionResult = 'commit' | 'abort';

export interface FetchedOffset {
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
  errorCode: number;
}

/** Who fetches offsets (OffsetFetch v9+); the defaults stand for no member. */
export interface OffsetFetchMember {
  readonly memberId: string | null;
  readonly memberEpoch: number;
}

export const NO_MEMBER: OffsetFetchMember = { memberId: null, memberEpoch: -1 };

export interface FetchedOffsets {
  errorCode: number;
  topics: { name: string; partitions: FetchedOffset[] }[];
}

export interface OffsetDeleteOutcome {
  errorCode: number;
  topics: { name: string; partitions: { partition: number; errorCode: number }[] }[];
}

// ---- admin ----------------------------------------------------------------------------------------

export interface GroupListing {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: string;
}

export interface GroupDescription {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }[];
}

// ---- consumer protocol ----------------------------------------------------------------------------

export interface WireTopicPartitions {
  readonly topicId: Buffer;
  readonly partitions: readonly number[];
}

export interface ConsumerHeartbeatInput {
  readonly apiVersion: number;
  readonly groupId: string;
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly rebalanceTimeoutMs: number;
  readonly subscribedTopicNames: readonly string[] | null;
  readonly subscribedTopicRegex: string | null;
  readonly serverAssignor: string | null;
  readonly topicPartitions: readonly WireTopicPartitions[] | null;
  readonly clientId: string;
  readonly clientHost: string;
}

export interface ConsumerHeartbeatOutcome {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  /** null: unchanged since the member last heard it. */
  assignment: { topicId: Buffer; partitions: number[] }[] | null;
}

export interface DescribedTopicPartitions {
  topicId: Buffer;
  topicName: string;
  partitions: number[];
}

export interface ConsumerGroupDescription {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: {
    memberId: string;
    instanceId: string | null;
    rackId: string | null;
    memberEpoch: number;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: string[];
    subscribedTopicRegex: string | null;
    assignment: { topicPartitions: DescribedTopicPartitions[] };
    targetAssignment: { topicPartitions: DescribedTopicPartitions[] };
    /** 0 classic, 1 consumer. */
    memberType: number;
  }[];
}
