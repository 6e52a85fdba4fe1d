// A what-if, not part of the codec: a Writer that does not copy large byte fields but splices them
// into the output as references, so a message is written as a list of chunks for `socket.writev`
// and only its small fields take a fresh buffer.
// The generated write functions take any Writer, so this runs them unchanged; the bench uses it to
// show what vectored output would buy on record-heavy messages (docs/benchmarks.md).
import {
  type FetchResponse,
  type ProduceRequest,
  sizeFetchResponse,
  sizeProduceRequest,
  Writer,
  writeFetchResponse,
  writeProduceRequest,
} from '@tributary/codec';

/** Byte fields at least this long are spliced in by reference instead of copied. */
export const SPLICE_THRESHOLD = 16 * 1024;

export class SplicingWriter extends Writer {
  private readonly chunks: Buffer[] = [];
  /** Start of the part of `buf` not yet handed out as a chunk. */
  private pending = 0;

  /** `buf` holds everything but the spliced fields, which never take room in it. */
  private splice(v: Uint8Array): void {
    this.chunks.push(this.buf.subarray(this.pending, this.offset), v as Buffer);
    this.pending = this.offset;
  }

  override bytes(v: Uint8Array): void {
    if (v.length < SPLICE_THRESHOLD) {
      super.bytes(v);
      return;
    }
    this.int32(v.length);
    this.splice(v);
  }

  override compactBytes(v: Uint8Array): void {
    if (v.length < SPLICE_THRESHOLD) {
      super.compactBytes(v);
      return;
    }
    this.uvarint(v.length + 1);
    this.splice(v);
  }

  override raw(v: Uint8Array): void {
    if (v.length < SPLICE_THRESHOLD) {
      super.raw(v);
      return;
    }
    this.splice(v);
  }

  /** The message as chunks, in order; together they are exactly the encoded bytes. */
  finish(): Buffer[] {
    if (this.pending < this.offset) this.chunks.push(this.buf.subarray(this.pending, this.offset));
    return this.chunks;
  }
}

/** Bytes of the fields a SplicingWriter will splice; a generated size function could report these. */
function spliced(fields: readonly (Uint8Array | null)[]): number {
  let n = 0;
  for (const f of fields) if (f !== null && f.length >= SPLICE_THRESHOLD) n += f.length;
  return n;
}

export function encodeProduceRequestChunks(m: ProduceRequest, v: number): Buffer[] {
  const records = m.topicData.flatMap((t) => t.partitionData.map((p) => p.records));
  const w = new SplicingWriter(Buffer.allocUnsafe(sizeProduceRequest(m, v) - spliced(records)));
  writeProduceRequest(w, m, v);
  return w.finish();
}

export function encodeFetchResponseChunks(m: FetchResponse, v: number): Buffer[] {
  const records = m.responses.flatMap((t) => t.partitions.map((p) => p.records));
  const w = new SplicingWriter(Buffer.allocUnsafe(sizeFetchResponse(m, v) - spliced(records)));
  writeFetchResponse(w, m, v);
  return w.finish();
}
