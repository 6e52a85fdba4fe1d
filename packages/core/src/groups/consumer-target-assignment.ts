// The consumer protocol's target assignment (KIP-848): when membership, subscriptions or the
// subscribed topics change, the group epoch moves and the group's server-side assignor computes
// each member's target for the new epoch, which members then reconcile towards.
import { createHash } from 'node:crypto';
import { ErrorCode } from '@tributary/codec';
import type { BrokerConfig } from '../broker/config.js';
import type { TopicRegistry } from '../broker/topics.js';
import type { Metrics } from '../services.js';
import { assignmentsEqual, EMPTY, type ServerAssignor } from './assignors/assignor.js';
import type { ConsumerGroup, ConsumerGroupMember } from './consumer-group.js';
import { builtInAssignors, compileTopicRegex, validateConsumerGroupConfig } from './consumer-group-config.js';
import { groupRecord, targetMemberRecord } from './consumer-group-records.js';
import { sameSet } from './consumer-protocol.js';
import { CONSUMER_OFFSETS_TOPIC, type GroupLogRecord } from './group-log.js';
import { GroupError } from './group-requests.js';

export interface ConsumerTargetAssignmentOptions {
  readonly topics: TopicRegistry;
  readonly config: BrokerConfig;
  readonly metrics: Metrics;
}

/** The configured assignors, regex subscriptions resolved against the topics, and target assignments. */
export class ConsumerTargetAssignment {
  private readonly assignors: Map<string, ServerAssignor>;
  private readonly regexCache = new Map<string, RegExp>();

  constructor(private readonly options: ConsumerTargetAssignmentOptions) {
    validateConsumerGroupConfig(options.config);
    const all = builtInAssignors();
    this.assignors = new Map();
    for (const name of options.config.groupConsumerAssignors) this.assignors.set(name, all.get(name)!);
  }

  private get defaultAssignor(): string {
    return this.options.config.groupConsumerAssignors[0]!;
  }

  /** The assignor a group uses: its members' preference, or the first configured. */
  assignorName(group: ConsumerGroup): string {
    return group.preferredAssignor(this.defaultAssignor);
  }

  /** Refuses a subscription regex that does not compile and an assignor that is not configured. */
  validateSubscription(regex: string | null, serverAssignor: string | null): void {
    if (regex !== null && regex !== '') this.compile(regex);
    if (serverAssignor !== null && !this.assignors.has(serverAssignor))
      throw new GroupError(
        ErrorCode.UNSUPPORTED_ASSIGNOR,
        `ServerAssignor ${serverAssignor} is not supported. Supported assignors: ${[...this.assignors.keys()].join(', ')}.`,
      );
  }

  /**
   * Moves the group epoch when membership or subscriptions changed (`bump`) or the subscribed
   * topics did, then computes the target assignment for a new epoch.
   */
  maybeBumpAndAssign(group: ConsumerGroup, bump: boolean, now: number, records: GroupLogRecord[]): void {
    let changed = bump;
    if (this.refreshRegexes(group, now, records)) changed = true;
    const hash = this.metadataHash(group);
    if (hash !== group.metadataHash) changed = true;
    if (changed) {
      group.groupEpoch++;
      group.metadataHash = hash;
      records.push(groupRecord(group));
      this.options.metrics.increment('tributary_consumer_group_epoch_bumps_total');
    }
    if (group.groupEpoch > group.assignmentEpoch) this.computeTargetAssignment(group, now, records);
  }

  /** Resolves every subscribed regex against the topics now; true when any resolution changed. */
  private refreshRegexes(group: ConsumerGroup, now: number, records: GroupLogRecord[]): boolean {
    const wanted = group.subscribedRegexes();
    let changed = false;
    for (const regex of [...group.resolvedRegexes.keys()])
      if (!wanted.has(regex)) {
        group.resolvedRegexes.delete(regex);
        records.push({ type: 'consumer-regex', groupId: group.groupId, regex, value: null });
        changed = true;
      }
    if (wanted.size === 0) return changed;
    const names = this.options.topics
      .all()
      .map((t) => t.name)
      .filter((n) => n !== CONSUMER_OFFSETS_TOPIC);
    for (const regex of wanted) {
      const re = this.compile(regex);
      const topics = new Set(names.filter((n) => re.test(n)));
      const known = group.resolvedRegexes.get(regex);
      if (known !== undefined && sameSet(known, topics)) continue;
      group.resolvedRegexes.set(regex, topics);
      records.push({
        type: 'consumer-regex',
        groupId: group.groupId,
        regex,
        value: { topics: [...topics].sort(), version: 0n, timestamp: BigInt(now) },
      });
      changed = true;
    }
    return changed;
  }

  private compile(regex: string): RegExp {
    let re = this.regexCache.get(regex);
    if (re !== undefined) return re;
    try {
      re = compileTopicRegex(regex);
    } catch (e) {
      throw new GroupError(
        ErrorCode.INVALID_REGULAR_EXPRESSION,
        `SubscribedTopicRegex \`${regex}\` is not a valid regular expression: ${(e as Error).message}.`,
      );
    }
    if (this.regexCache.size > 1000) this.regexCache.clear();
    this.regexCache.set(regex, re);
    return re;
  }

  /** A hash of the subscribed topics (name, id, partitions): a change moves the group epoch. */
  private metadataHash(group: ConsumerGroup): bigint {
    const names = [...group.subscribedTopicNames()].sort();
    const parts: string[] = [];
    for (const name of names) {
      const t = this.options.topics.byName(name);
      if (t !== undefined) parts.push(`${name}\u0000${t.id}\u0000${t.partitionCount}`);
    }
    if (parts.length === 0) return 0n;
    return createHash('sha256').update(parts.join('\u0001')).digest().readBigInt64BE(0);
  }

  /** Runs the group's assignor over every member and stores the targets that changed. */
  private computeTargetAssignment(group: ConsumerGroup, now: number, records: GroupLogRecord[]): void {
    const assignor =
      this.assignors.get(this.assignorName(group)) ?? this.assignors.get(this.defaultAssignor)!;
    const partitionCounts = new Map<string, number>();
    const regexTopics = (m: ConsumerGroupMember) =>
      m.subscribedTopicRegex === null ? [] : [...(group.resolvedRegexes.get(m.subscribedTopicRegex) ?? [])];
    const members = [...group.members.values()]
      .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
      .map((m) => {
        const ids = new Set<string>();
        for (const name of [...m.subscribedTopicNames, ...regexTopics(m)]) {
          const t = this.options.topics.byName(name);
          if (t === undefined) continue;
          ids.add(t.id);
          partitionCounts.set(t.id, t.partitionCount);
        }
        return {
          memberId: m.memberId,
          subscribedTopicIds: ids,
          current: group.targetAssignment.get(m.memberId) ?? EMPTY,
        };
      });
    const result = assignor.assign({ members, partitionCounts });
    for (const m of members) {
      const next = result.get(m.memberId) ?? new Map();
      if (!assignmentsEqual(next, m.current))
        records.push(targetMemberRecord(group.groupId, m.memberId, next));
      group.targetAssignment.set(m.memberId, next);
    }
    group.assignmentEpoch = group.groupEpoch;
    records.push({
      type: 'consumer-target-metadata',
      groupId: group.groupId,
      value: { assignmentEpoch: group.assignmentEpoch, assignmentTimestamp: BigInt(now) },
    });
    this.options.metrics.increment('tributary_consumer_group_assignments_total', { assignor: assignor.name });
  }
}
