import { type ClassicGroup, GroupState } from './classic-group.js';
import type { ConsumerGroup } from './consumer-group.js';

export type AnyGroup = ClassicGroup | ConsumerGroup;

export function isDead(group: AnyGroup): boolean {
  return group.type === 'consumer' ? group.dead : group.is(GroupState.Dead);
}

/**
 * The groups this coordinator holds, by id: the one piece of mutable state the protocols, the
 * offset manager and the admin operations share. A group id names one group at a time, of either
 * protocol; converting a group replaces it.
 */
export class GroupStore {
  private readonly groups = new Map<string, AnyGroup>();

  get(groupId: string): AnyGroup | undefined {
    return this.groups.get(groupId);
  }

  /** The classic group under this id, dead or alive. */
  classic(groupId: string): ClassicGroup | undefined {
    const g = this.groups.get(groupId);
    return g?.type === 'classic' ? g : undefined;
  }

  /** The live consumer-protocol group under this id. */
  consumer(groupId: string): ConsumerGroup | undefined {
    const g = this.groups.get(groupId);
    return g?.type === 'consumer' && !g.dead ? g : undefined;
  }

  /** Stores a group under its id, replacing whatever was there. */
  put(group: AnyGroup): void {
    this.groups.set(group.groupId, group);
  }

  /** Forgets a group, if it is still the one stored under its id. */
  remove(group: AnyGroup): void {
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
  }

  /** A snapshot of every group: callers may add and remove while they walk it. */
  all(): AnyGroup[] {
    return [...this.groups.values()];
  }

  get size(): number {
    return this.groups.size;
  }
}
