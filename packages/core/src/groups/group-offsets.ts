import type { CommittedOffset } from './classic-group.js';

/** The committed offsets of one group, whatever protocol its members speak. */
export class GroupOffsets {
  /** topic -> partition -> committed offset. */
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();

  offset(topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  setOffset(topic: string, partition: number, value: CommittedOffset): void {
    let t = this.offsets.get(topic);
    if (t === undefined) {
      t = new Map();
      this.offsets.set(topic, t);
    }
    t.set(partition, value);
  }

  deleteOffset(topic: string, partition: number): boolean {
    const t = this.offsets.get(topic);
    if (t === undefined || !t.delete(partition)) return false;
    if (t.size === 0) this.offsets.delete(topic);
    return true;
  }

  hasOffsets(): boolean {
    return this.offsets.size > 0;
  }

  /** Takes over another group's offsets (a group converted from one protocol to the other). */
  adoptOffsets(from: GroupOffsets): void {
    for (const [topic, parts] of from.offsets) this.offsets.set(topic, parts);
  }
}
