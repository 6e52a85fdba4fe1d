// One Kafka connection for the group bench's protocol client: frames requests with the codec,
// matches responses by correlation id, and decodes them. Nothing else (no retries, no metadata):
// the bench wants the broker's latency, not a client's.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { API_TABLE, decodeResponseFrame, encodeRequestFrame, FrameSplitter } from '@tributary/codec';

interface Pending {
  apiKey: number;
  version: number;
  resolve: (body: unknown) => void;
  reject: (e: Error) => void;
}

export class WireConnection {
  private readonly splitter = new FrameSplitter();
  private readonly pending = new Map<number, Pending>();
  private correlationId = 0;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly clientId: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.splitter.push(chunk)) {
        const id = frame.readInt32BE(0);
        const p = this.pending.get(id);
        if (p === undefined) continue;
        this.pending.delete(id);
        try {
          p.resolve(decodeResponseFrame(frame, p.apiKey, p.version).body);
        } catch (e) {
          p.reject(e as Error);
        }
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const p of this.pending.values()) p.reject(new Error('connection closed'));
      this.pending.clear();
    });
  }

  static async open(bootstrap: string, clientId: string): Promise<WireConnection> {
    const at = bootstrap.lastIndexOf(':');
    const socket = connect(Number(bootstrap.slice(at + 1)), bootstrap.slice(0, at));
    await once(socket, 'connect');
    return new WireConnection(socket, clientId);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send<T>(apiKey: number, version: number, body: unknown): Promise<T> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    const id = ++this.correlationId;
    const promise = new Promise<T>((resolve, reject) =>
      this.pending.set(id, { apiKey, version, resolve: resolve as (b: unknown) => void, reject }),
    );
    this.socket.write(encodeRequestFrame(API_TABLE[apiKey]!.request, version, id, this.clientId, body));
    return promise;
  }

  close(): void {
    this.socket.destroy();
  }
}
