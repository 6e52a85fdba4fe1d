// A bare Kafka protocol client for the server's tests: writes raw or encoded request frames and
// reads response frames back, with bounded waits.
import { connect, type Socket } from 'node:net';
import {
  decodeResponseFrame,
  encodeRequestFrame,
  FrameSplitter,
  type MessageDescriptor,
} from '@tributary/codec';

const WAIT_MS = 2_000;

export class WireClient {
  readonly socket: Socket;
  /** `host:port` as the server sees this client (kept: the socket forgets it once closed). */
  readonly address: string;
  /** Resolves when the server closes the connection (or it fails). */
  readonly closed: Promise<void>;
  private readonly splitter = new FrameSplitter();
  private readonly frames: Buffer[] = [];
  private wake: (() => void) | undefined;
  private isClosed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.address = `${socket.localAddress}:${socket.localPort}`;
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.splitter.push(chunk)) this.frames.push(frame);
      this.wake?.();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.wake?.();
        resolve();
      }),
    );
  }

  static connect(port: number, host = '127.0.0.1'): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new WireClient(socket));
      });
    });
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Encodes a request frame; pass several to `send` at once to pipeline them. */
  static frame<T>(descriptor: MessageDescriptor<T>, version: number, correlationId: number, body: T): Buffer {
    return encodeRequestFrame(descriptor, version, correlationId, 'wire-client', body);
  }

  /** The next response frame, without its size prefix. */
  async nextFrame(timeoutMs = WAIT_MS): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.isClosed) throw new Error('connection closed before a response arrived');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.frames.shift()!;
  }

  /** The next response, decoded for the request's API and version. */
  async nextResponse<T = unknown>(
    apiKey: number,
    apiVersion: number,
    timeoutMs = WAIT_MS,
  ): Promise<{ correlationId: number; body: T }> {
    return decodeResponseFrame<T>(await this.nextFrame(timeoutMs), apiKey, apiVersion);
  }

  /** Frames received and not yet taken. */
  get pending(): number {
    return this.frames.length;
  }

  /** Resolves true if the server closed the connection within the wait. */
  async closedWithin(timeoutMs = WAIT_MS): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Resolves after `ms`, for checking that something does not happen. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it holds, failing after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}
