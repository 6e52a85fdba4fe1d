// A minimal Kafka client over one socket, built on the codec: the tests' own protocol-level client.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { API_TABLE, decodeResponseFrame, encodeRequestFrame, FrameSplitter } from '@tributary/codec';

export class WireClient {
  private readonly splitter = new FrameSplitter();
  private readonly waiting = new Map<number, { resolve: (f: Buffer) => void; reject: (e: Error) => void }>();
  private correlationId = 0;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      for (const frame of this.splitter.push(chunk)) {
        const id = frame.readInt32BE(0);
        const w = this.waiting.get(id);
        this.waiting.delete(id);
        w?.resolve(frame);
      }
    });
    socket.on('close', () => {
      for (const w of this.waiting.values()) w.reject(new Error('connection closed'));
      this.waiting.clear();
    });
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<WireClient> {
    const socket = connect(port, host);
    await once(socket, 'connect');
    return new WireClient(socket);
  }

  /** Sends a request and resolves to the decoded response body. */
  async send<T = any>(apiKey: number, version: number, body: unknown): Promise<T> {
    const frame = await this.sendRaw(apiKey, version, body);
    return decodeResponseFrame<T>(frame, apiKey, version).body;
  }

  /** Sends a request and resolves to the raw response frame (without its size prefix). */
  sendRaw(apiKey: number, version: number, body: unknown): Promise<Buffer> {
    const id = ++this.correlationId;
    const api = API_TABLE[apiKey]!;
    const p = new Promise<Buffer>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.socket.write(encodeRequestFrame(api.request, version, id, 'wire-test', body));
    return p;
  }

  /** Sends a request whose response never comes (Produce acks=0). */
  sendOneWay(apiKey: number, version: number, body: unknown): void {
    const id = ++this.correlationId;
    this.socket.write(encodeRequestFrame(API_TABLE[apiKey]!.request, version, id, 'wire-test', body));
  }

  close(): void {
    this.socket.destroy();
  }
}
