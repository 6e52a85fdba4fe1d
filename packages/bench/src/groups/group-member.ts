// A classic-protocol group member at the wire level, for the group bench: JoinGroup (with the
// MEMBER_ID_REQUIRED step), SyncGroup with a range assignment computed by the leader, Heartbeat on
// a timer the bench sets, LeaveGroup. It rejoins when a heartbeat or SyncGroup says the group is
// rebalancing. No fetching and no commits: the member's only traffic is the group protocol, so the
// time a rebalance takes is the broker's plus one heartbeat interval at most.
import { performance } from 'node:perf_hooks';
import {
  ApiKey,
  ErrorCode,
  type HeartbeatResponse,
  type JoinGroupResponse,
  type LeaveGroupResponse,
  type SyncGroupResponse,
} from '@tributary/codec';
import {
  decodeAssignment,
  decodeSubscriptionTopics,
  encodeAssignment,
  encodeSubscriptionMetadata,
  rangeAssign,
} from './range-assignor.js';
import type { WireConnection } from './wire-connection.js';

export const JOIN_GROUP_VERSION = 9;
export const SYNC_GROUP_VERSION = 5;
export const HEARTBEAT_VERSION = 4;
export const LEAVE_GROUP_VERSION = 5;

export interface MemberOptions {
  groupId: string;
  topics: readonly string[];
  /** Partitions per topic, which the leader needs to assign (a client would read Metadata once). */
  partitionCounts: ReadonlyMap<string, number>;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
}

type State = 'idle' | 'joining' | 'stable' | 'stopped';

export class GroupMember {
  memberId = '';
  generationId = -1;
  isLeader = false;
  assignment: Map<string, number[]> = new Map();
  /** performance.now() when the first JoinGroup went out; NaN before. */
  firstJoinSentAt = Number.NaN;
  /** performance.now() when the latest JoinGroup went out. */
  lastJoinSentAt = Number.NaN;
  /** performance.now() when the current assignment arrived. */
  assignedAt = Number.NaN;
  heartbeatsSent = 0;
  /** Heartbeats answered REBALANCE_IN_PROGRESS (or another error that sends the member back to join). */
  heartbeatRejoins = 0;
  /** Errors the member could not act on; the bench reports them. */
  readonly failures: string[] = [];
  /** Called each time the member receives an assignment. */
  onAssigned: ((m: GroupMember) => void) | null = null;

  private state: State = 'idle';
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatIntervalMs: number;
  private readonly metadata: Buffer;

  constructor(
    private readonly conn: WireConnection,
    private readonly options: MemberOptions,
  ) {
    this.heartbeatIntervalMs = options.heartbeatIntervalMs;
    this.metadata = encodeSubscriptionMetadata(options.topics);
  }

  get isStable(): boolean {
    return this.state === 'stable';
  }

  /** Starts joining; returns at once. */
  start(): void {
    if (this.state !== 'idle') return;
    this.rejoin();
  }

  /**
   * Changes the heartbeat interval. `phase` in [0, 1) places the next heartbeat within the new
   * interval, so that many members do not beat in step.
   */
  setHeartbeatInterval(ms: number, phase = 1): void {
    this.heartbeatIntervalMs = ms;
    if (this.state !== 'stable') return;
    this.clearHeartbeat();
    this.scheduleHeartbeat(Math.max(1, Math.round(ms * phase)));
  }

  /** Leaves the group (LeaveGroup) and stops; the connection stays open for the caller to close. */
  async leave(): Promise<void> {
    const wasMember = this.memberId !== '' && this.state !== 'stopped';
    this.state = 'stopped';
    this.clearHeartbeat();
    if (!wasMember || this.conn.isClosed) return;
    try {
      await this.conn.send<LeaveGroupResponse>(ApiKey.LeaveGroup, LEAVE_GROUP_VERSION, {
        groupId: this.options.groupId,
        memberId: '',
        members: [{ memberId: this.memberId, groupInstanceId: null, reason: null }],
      });
    } catch {}
  }

  stop(): void {
    this.state = 'stopped';
    this.clearHeartbeat();
  }

  private rejoin(): void {
    this.state = 'joining';
    this.clearHeartbeat();
    this.joinAndSync().catch((e: unknown) => {
      if (this.state === 'stopped') return;
      this.failures.push(String(e));
      this.state = 'stopped';
    });
  }

  private async joinAndSync(): Promise<void> {
    for (;;) {
      if (this.state !== 'joining') return;
      this.lastJoinSentAt = performance.now();
      if (Number.isNaN(this.firstJoinSentAt)) this.firstJoinSentAt = this.lastJoinSentAt;
      const join = await this.conn.send<JoinGroupResponse>(ApiKey.JoinGroup, JOIN_GROUP_VERSION, {
        groupId: this.options.groupId,
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: this.metadata }],
        reason: null,
      });
      if (this.state !== 'joining') return;
      if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = join.memberId;
        continue;
      }
      if (join.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (join.errorCode !== ErrorCode.NONE) throw new Error(`JoinGroup answered error ${join.errorCode}`);
      this.memberId = join.memberId;
      this.generationId = join.generationId;
      this.isLeader = join.leader === join.memberId;
      const assignments = this.isLeader ? this.assign(join) : [];
      const sync = await this.conn.send<SyncGroupResponse>(ApiKey.SyncGroup, SYNC_GROUP_VERSION, {
        groupId: this.options.groupId,
        generationId: join.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments,
      });
      if (this.state !== 'joining') return;
      if (
        sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS ||
        sync.errorCode === ErrorCode.ILLEGAL_GENERATION
      )
        continue;
      if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (sync.errorCode !== ErrorCode.NONE) throw new Error(`SyncGroup answered error ${sync.errorCode}`);
      this.assignment = decodeAssignment(sync.assignment);
      this.assignedAt = performance.now();
      this.state = 'stable';
      this.scheduleHeartbeat(this.heartbeatIntervalMs);
      this.onAssigned?.(this);
      return;
    }
  }

  private assign(join: JoinGroupResponse): { memberId: string; assignment: Buffer }[] {
    const subscriptions = new Map(
      join.members.map((m) => [m.memberId, decodeSubscriptionTopics(m.metadata)]),
    );
    const plan = rangeAssign(subscriptions, this.options.partitionCounts);
    return [...plan].map(([memberId, a]) => ({ memberId, assignment: encodeAssignment(a) }));
  }

  private scheduleHeartbeat(delayMs: number): void {
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = null;
      this.heartbeat().catch((e: unknown) => {
        if (this.state === 'stopped') return;
        this.failures.push(String(e));
        this.state = 'stopped';
      });
    }, delayMs);
  }

  private clearHeartbeat(): void {
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private async heartbeat(): Promise<void> {
    if (this.state !== 'stable') return;
    // The next beat is due one interval after this one is sent, whatever the answer's delay.
    this.scheduleHeartbeat(this.heartbeatIntervalMs);
    this.heartbeatsSent++;
    const res = await this.conn.send<HeartbeatResponse>(ApiKey.Heartbeat, HEARTBEAT_VERSION, {
      groupId: this.options.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: null,
    });
    if (this.state !== 'stable' || res.errorCode === ErrorCode.NONE) return;
    this.heartbeatRejoins++;
    if (res.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
    if (
      res.errorCode === ErrorCode.REBALANCE_IN_PROGRESS ||
      res.errorCode === ErrorCode.ILLEGAL_GENERATION ||
      res.errorCode === ErrorCode.UNKNOWN_MEMBER_ID
    )
      this.rejoin();
    else this.failures.push(`Heartbeat answered error ${res.errorCode}`);
  }
}
