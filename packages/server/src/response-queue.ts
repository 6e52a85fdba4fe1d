/**
 * A request's place in its connection's response order. Kafka clients match responses to requests
 * by position as much as by correlation id, so a response leaves only after every earlier one.
 */
export interface ResponseSlot<M> {
  /** `pending` until the handler answers; `close` ends the connection once earlier responses are out. */
  state: 'pending' | 'ready' | 'close';
  /**
   * The response frame as chunks that are written back to back (record data is referenced, not
   * copied, into them), or null when Kafka sends no response (Produce with acks=0).
   */
  frame: readonly Buffer[] | null;
  /** Bytes in `frame`. */
  bytes: number;
  readonly meta: M;
}

/** What the writer may send now: responses in request order, then whether to close. */
export interface ReadyResponses<M> {
  readonly slots: ResponseSlot<M>[];
  readonly close: boolean;
}

/**
 * Responses of one connection, released strictly in request order however their handlers finish.
 * `M` is whatever the connection wants back with each slot (timings, labels).
 */
export class ResponseQueue<M> {
  private slots: ResponseSlot<M>[] = [];
  private readyBytes = 0;
  private closeWhenEmpty = false;

  /** Requests taken in whose responses (or closing) are not yet released. */
  get size(): number {
    return this.slots.length;
  }

  /** Bytes of responses ready but held behind an earlier, unfinished one. */
  get waitingBytes(): number {
    return this.readyBytes;
  }

  /** Takes a place for a request, in arrival order. */
  reserve(meta: M): ResponseSlot<M> {
    const slot: ResponseSlot<M> = { state: 'pending', frame: null, bytes: 0, meta };
    this.slots.push(slot);
    return slot;
  }

  /** Fills a slot with its response frame (one buffer or chunks), or null for none. A slot is answered once. */
  complete(slot: ResponseSlot<M>, frame: Buffer | readonly Buffer[] | null): void {
    if (slot.state !== 'pending') return;
    slot.state = 'ready';
    if (frame === null) return;
    const chunks = Buffer.isBuffer(frame) ? [frame] : frame;
    let bytes = 0;
    for (const c of chunks) bytes += c.length;
    slot.frame = chunks;
    slot.bytes = bytes;
    this.readyBytes += bytes;
  }

  /** The connection closes at this slot: earlier responses still go out, later ones never do. */
  closeAt(slot: ResponseSlot<M>): void {
    if (slot.state === 'ready') this.readyBytes -= slot.bytes;
    slot.state = 'close';
    slot.frame = null;
    slot.bytes = 0;
  }

  /** The connection closes once every response taken in so far is out; take in no more after this. */
  closeAfterLast(): void {
    this.closeWhenEmpty = true;
  }

  /** Removes and returns the ready responses at the head, stopping at the first pending slot or a close. */
  takeReady(): ReadyResponses<M> {
    let n = 0;
    while (n < this.slots.length && this.slots[n]!.state === 'ready') n++;
    const close = n < this.slots.length ? this.slots[n]!.state === 'close' : this.closeWhenEmpty;
    if (n === 0) return { slots: [], close };
    const slots = this.slots.splice(0, n);
    for (const s of slots) this.readyBytes -= s.bytes;
    return { slots, close };
  }
}
