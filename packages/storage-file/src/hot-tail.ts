interface Entry {
  readonly batch: Buffer;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly tail: HotTail;
  evicted: boolean;
}

/**
 * The memory all hot tails of one storage share: a queue of every cached batch in the order it was
 * appended. When the total goes over the bound, the oldest batch overall is dropped, which is
 * always the oldest batch of its own partition's tail.
 */
export class HotTailBudget {
  private queue: Entry[] = [];
  private head = 0;
  private live = 0;
  bytes = 0;

  constructor(readonly maxBytes: number) {}

  add(entry: Entry): void {
    this.queue.push(entry);
    this.live++;
    this.bytes += entry.batch.length;
    while (this.bytes > this.maxBytes && this.head < this.queue.length) {
      const oldest = this.queue[this.head++]!;
      if (!oldest.evicted) oldest.tail.evictOldest();
    }
    this.compact();
  }

  /** Called by a tail for each entry it drops. */
  released(entry: Entry): void {
    this.live--;
    this.bytes -= entry.batch.length;
  }

  private compact(): void {
    // Entries dropped by their own tail stay queued until they reach the head; keep the queue
    // from growing without bound when the global limit is never reached.
    if (this.queue.length - this.head > 2 * this.live + 1024) {
      this.queue = this.queue.slice(this.head).filter((e) => !e.evicted);
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * A partition's most recently appended batches, copied into memory, so that consumers at the end
 * of the log read without touching the file. Bounded per partition and by the shared budget.
 */
export class HotTail {
  private entries: Entry[] = [];
  private head = 0;
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly budget: HotTailBudget,
  ) {}

  add(batch: Buffer, baseOffset: number, lastOffset: number): void {
    if (batch.length > this.maxBytes || batch.length > this.budget.maxBytes) {
      // Too big to cache; what is cached would no longer end at the log end.
      this.clear();
      return;
    }
    const copy = Buffer.allocUnsafeSlow(batch.length);
    batch.copy(copy);
    const entry: Entry = { batch: copy, baseOffset, lastOffset, tail: this, evicted: false };
    this.entries.push(entry);
    this.bytes += copy.length;
    while (this.bytes > this.maxBytes) this.evictOldest();
    this.budget.add(entry);
  }

  evictOldest(): void {
    const e = this.entries[this.head];
    if (e === undefined) return;
    e.evicted = true;
    this.entries[this.head++] = undefined as unknown as Entry;
    this.bytes -= e.batch.length;
    this.budget.released(e);
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** Drops cached batches that end before `offset`. */
  dropBefore(offset: number): void {
    while (this.head < this.entries.length && this.entries[this.head]!.lastOffset < offset)
      this.evictOldest();
  }

  clear(): void {
    while (this.head < this.entries.length) this.evictOldest();
  }

  /**
   * Batches from the one holding `offset` and starting below `end`, by the read rules, or null when `offset` is older than
   * what the tail holds. The cached batches are handed out as they are (never written to).
   */
  read(offset: number, maxBytes: number, minOneBatch: boolean, end: number): Buffer[] | null {
    const entries = this.entries;
    if (this.head >= entries.length || offset < entries[this.head]!.baseOffset) return null;
    let lo = this.head;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]!.lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    const out: Buffer[] = [];
    let bytes = 0;
    for (let i = lo; i < entries.length && entries[i]!.baseOffset < end; i++) {
      const b = entries[i]!.batch;
      if (bytes + b.length > maxBytes && !(out.length === 0 && minOneBatch)) break;
      out.push(b);
      bytes += b.length;
      if (bytes >= maxBytes) break;
    }
    return out;
  }
}
