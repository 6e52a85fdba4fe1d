// The admin view over groups of both protocols: ListGroups, DescribeGroups (classic groups; a
// consumer-protocol group is described by ConsumerGroupDescribe) and DeleteGroups.
import { ErrorCode } from '@tributary/codec';
import type { Logger } from '../services.js';
import { EMPTY_ASSIGNMENT, GroupState } from './classic-group.js';
import type { ClassicProtocol } from './classic-protocol.js';
import type { ConsumerProtocol } from './consumer-protocol.js';
import type { GroupLog, GroupLogRecord } from './group-log.js';
import type { CoordinatorAvailability, GroupDescription, GroupListing } from './group-requests.js';
import { type GroupStore, isDead } from './group-store.js';
import type { OffsetManager } from './offset-manager.js';

export interface GroupAdminOptions {
  readonly logger: Logger;
  readonly store: GroupStore;
  readonly log: GroupLog;
  readonly availability: CoordinatorAvailability;
  readonly classic: ClassicProtocol;
  readonly consumer: ConsumerProtocol;
  readonly offsets: OffsetManager;
}

export class GroupAdmin {
  constructor(private readonly options: GroupAdminOptions) {}

  /** Groups whose state and type pass the filters (empty filters pass everything; case-insensitive). */
  listGroups(statesFilter: readonly string[], typesFilter: readonly string[]): GroupListing[] {
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.toLowerCase()));
    const out: GroupListing[] = [];
    for (const g of this.options.store.all()) {
      if (isDead(g)) continue;
      if (states.size > 0 && !states.has(g.state.toLowerCase())) continue;
      if (types.size > 0 && !types.has(g.type)) continue;
      out.push({
        groupId: g.groupId,
        protocolType: g.type === 'consumer' ? 'consumer' : (g.protocolType ?? ''),
        groupState: g.state,
        groupType: g.type,
      });
    }
    return out;
  }

  describeGroup(groupId: string): GroupDescription | null {
    // A consumer-protocol group is described by ConsumerGroupDescribe; here it is not found.
    const g = this.options.store.classic(groupId);
    if (g === undefined || g.is(GroupState.Dead)) return null;
    // Metadata and assignments are shown only for a stable generation, as Kafka does.
    const stable = g.is(GroupState.Stable);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: g.state,
      protocolType: g.protocolType ?? '',
      protocolData: stable ? (g.protocolName ?? '') : '',
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadataFor(g.protocolName) : EMPTY_ASSIGNMENT,
        memberAssignment: stable ? m.assignment : EMPTY_ASSIGNMENT,
      })),
    };
  }

  /** Deletes empty groups with their offsets, pending transactional ones included. */
  async deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; errorCode: number }[]> {
    return Promise.all(
      groupIds.map(async (groupId) => {
        const unavailable = this.options.availability.unavailableError(groupId);
        if (unavailable !== null) return { groupId, errorCode: unavailable };
        if (groupId === '') return { groupId, errorCode: ErrorCode.INVALID_GROUP_ID };
        const group = this.options.store.get(groupId);
        if (group === undefined || isDead(group)) return { groupId, errorCode: ErrorCode.GROUP_ID_NOT_FOUND };
        if (group.state !== 'Empty' || group.size > 0)
          return { groupId, errorCode: ErrorCode.NON_EMPTY_GROUP };
        const records: GroupLogRecord[] = this.options.offsets.deleteAll(group);
        if (group.type === 'consumer') records.push(...this.options.consumer.deleteGroup(group));
        else records.push(...this.options.classic.deleteGroup(group));
        try {
          await this.options.log.append(groupId, records);
          return { groupId, errorCode: ErrorCode.NONE };
        } catch (e) {
          this.options.logger.warn({ err: e, group: groupId }, 'could not store a group deletion');
          return { groupId, errorCode: ErrorCode.NOT_COORDINATOR };
        }
      }),
    );
  }
}
