import type { Duplex } from 'node:stream';
import {
  API_TABLE,
  type ApiInfo,
  decodeRequestBody,
  encodeResponseFrameChunks,
  FrameSizeError,
  FrameSplitter,
  type ParsedRequestHeader,
  parseRequestHeader,
} from '@tributary/codec';
import type { Clock, Logger, Metrics, RequestContext, RequestDispatcher, TimerHandle } from '@tributary/core';
import { ResponseQueue, type ResponseSlot } from './response-queue.js';
import type { ServedVersions } from './served-versions.js';

/**
 * How long a closing connection waits for the client to close its side after ours is shut. Reading
 * on until then keeps unread request bytes from turning the close into a reset, which could make
 * the client drop the last responses before it reads them.
 */
export const CLOSE_LINGER_MS = 5_000;

export interface ConnectionOptions {
  /** A `net.Socket` in the broker; any duplex byte stream in tests. */
  readonly socket: Duplex;
  readonly connectionId: number;
  /** `host:port` of the client. */
  readonly clientAddress: string;
  readonly dispatcher: RequestDispatcher;
  readonly served: ServedVersions;
  readonly maxRequestSize: number;
  readonly maxInFlight: number;
  readonly maxQueuedBytes: number;
  /** This connection's logger (a child carrying its id and client address). */
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
}

interface RequestTiming {
  readonly api: string;
  readonly receivedAt: number;
}

/**
 * `open` reads and serves requests. `closing` takes no new requests: responses before the close
 * point still go out, then the socket is shut. `closed` is after the socket closed.
 */
type ConnectionState = 'open' | 'closing' | 'closed';

/**
 * One client connection: splits frames, hands decoded requests to the dispatcher in arrival order,
 * writes responses in that same order, and stops reading while too much is waiting.
 */
export class Connection {
  readonly id: number;
  readonly clientAddress: string;
  /** Resolves once the socket has closed, for whatever reason. */
  readonly closed: Promise<void>;

  private readonly socket: Duplex;
  private readonly options: ConnectionOptions;
  private readonly log: Logger;
  private readonly splitter: FrameSplitter;
  private readonly responses = new ResponseQueue<RequestTiming>();
  /** Frames received but not yet started, held while the connection is at its limits. */
  private backlog: Buffer[] = [];
  private state: ConnectionState = 'open';
  private paused = false;
  /** `socket.write` returned false: wait for 'drain' before taking more requests. */
  private writeBlocked = false;
  private flushScheduled = false;
  /** Our side of the socket is shut; reading on until the client shuts its side. */
  private shut = false;
  private lingerTimer: TimerHandle | undefined;

  constructor(options: ConnectionOptions) {
    this.options = options;
    this.id = options.connectionId;
    this.clientAddress = options.clientAddress;
    this.socket = options.socket;
    this.log = options.logger;
    this.splitter = new FrameSplitter(options.maxRequestSize);
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));

    this.socket.on('data', (chunk: Buffer) => this.guard(() => this.onData(chunk)));
    this.socket.on('drain', () =>
      this.guard(() => {
        this.writeBlocked = false;
        this.pump();
      }),
    );
    this.socket.on('error', (error) => this.log.debug({ err: error }, 'socket error'));
    this.socket.once('close', () => this.onClose());
    this.log.debug('connection opened');
  }

  /** Requests taken in and not yet answered, and answered ones held behind them. */
  get inFlight(): number {
    return this.responses.size;
  }

  /**
   * Stops taking requests; those already dispatched finish and their responses are written, then
   * the socket is shut. Requests received but not yet dispatched are dropped.
   */
  drain(): void {
    if (this.state !== 'open') return;
    this.stopTakingRequests();
    this.responses.closeAfterLast();
    this.scheduleFlush();
  }

  /** Closes the socket now, dropping whatever is unwritten. */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.options.metrics.increment('tributary_bytes_in_total', undefined, chunk.length);
    if (this.state !== 'open' || this.badFrame !== null) return;
    let frames: readonly Buffer[];
    try {
      frames = this.splitter.push(chunk);
    } catch (error) {
      // The size prefix is the only way to find the next frame: nothing after it can be trusted.
      // Complete frames before it in the same chunk are still served, then the connection closes.
      if (!(error instanceof FrameSizeError) || error.frames.length === 0) {
        this.rejectRequest(error, null, null);
        return;
      }
      frames = error.frames;
      this.badFrame = error;
    }
    for (const frame of frames) this.backlog.push(frame);
    this.pump();
  }

  /** A bad size prefix seen after frames still backlogged: rejected once they are taken. */
  private badFrame: Error | null = null;

  /** Starts backlogged requests while the connection is within its limits, then reads on or pauses. */
  private pump(): void {
    let started = 0;
    while (this.state === 'open' && started < this.backlog.length && this.canTakeRequest())
      this.handleFrame(this.backlog[started++]!);
    if (started > 0) this.backlog = this.backlog.slice(started);
    if (this.badFrame !== null && this.backlog.length === 0 && this.state === 'open') {
      this.rejectRequest(this.badFrame, null, null);
      return;
    }
    this.updateReading();
  }

  private canTakeRequest(): boolean {
    return (
      this.responses.size < this.options.maxInFlight &&
      !this.writeBlocked &&
      this.responses.waitingBytes + this.socket.writableLength <= this.options.maxQueuedBytes
    );
  }

  private updateReading(): void {
    const read = this.shut || (this.state === 'open' && this.backlog.length === 0 && this.canTakeRequest());
    if (read && this.paused) {
      this.paused = false;
      this.socket.resume();
    } else if (!read && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private handleFrame(frame: Buffer): void {
    const receivedAt = this.options.clock.monotonic();
    let header: ParsedRequestHeader;
    try {
      header = parseRequestHeader(frame);
    } catch (error) {
      this.rejectRequest(error, peekApiKey(frame), peekCorrelationId(frame));
      return;
    }
    const { apiKey, apiVersion, correlationId } = header;
    const api = API_TABLE[apiKey];
    if (!header.known || api === undefined) {
      this.rejectRequest(new Error(`API key ${apiKey} is not in the specs`), apiKey, correlationId);
      return;
    }
    const ctx: RequestContext = {
      connectionId: this.id,
      clientId: header.clientId,
      clientAddress: this.clientAddress,
      apiKey,
      apiVersion,
      correlationId,
    };
    if (this.options.served.serves(apiKey, apiVersion)) {
      let request: unknown;
      try {
        request = decodeRequestBody(frame, header);
      } catch (error) {
        this.rejectRequest(error, apiKey, correlationId);
        return;
      }
      this.dispatch(this.takeRequest(api, apiVersion, receivedAt), api, ctx, request);
    } else {
      this.answerUnsupported(api, ctx, receivedAt);
    }
  }

  private takeRequest(api: ApiInfo, apiVersion: number, receivedAt: number): ResponseSlot<RequestTiming> {
    this.options.metrics.increment('tributary_requests_total', { api: api.name, version: apiVersion });
    return this.responses.reserve({ api: api.name, receivedAt });
  }

  private dispatch(
    slot: ResponseSlot<RequestTiming>,
    api: ApiInfo,
    ctx: RequestContext,
    request: unknown,
  ): void {
    let result: unknown;
    try {
      result = this.options.dispatcher.dispatch(ctx, request);
    } catch (error) {
      this.failRequest(slot, ctx, error);
      return;
    }
    if (isPromiseLike(result))
      result.then(
        (body) => this.guard(() => this.respond(slot, api, ctx, ctx.apiVersion, body)),
        (error: unknown) => this.guard(() => this.failRequest(slot, ctx, error)),
      );
    else this.respond(slot, api, ctx, ctx.apiVersion, result);
  }

  private answerUnsupported(api: ApiInfo, ctx: RequestContext, receivedAt: number): void {
    let answer: { body: unknown; responseVersion: number };
    try {
      answer = this.options.dispatcher.unsupported(ctx);
    } catch (error) {
      this.failRequest(this.takeRequest(api, ctx.apiVersion, receivedAt), ctx, error);
      return;
    }
    const version = answer.responseVersion;
    if (!Number.isInteger(version) || version < api.minVersion || version > api.maxVersion) {
      this.rejectRequest(
        new Error(
          `${api.name} v${ctx.apiVersion} is not served and cannot be answered at v${version}, ` +
            `outside the specs' v${api.minVersion}-${api.maxVersion}`,
        ),
        ctx.apiKey,
        ctx.correlationId,
        'unanswerable request version',
      );
      return;
    }
    this.respond(this.takeRequest(api, ctx.apiVersion, receivedAt), api, ctx, version, answer.body);
  }

  private respond(
    slot: ResponseSlot<RequestTiming>,
    api: ApiInfo,
    ctx: RequestContext,
    responseVersion: number,
    body: unknown,
  ): void {
    if (this.state === 'closed' || slot.state !== 'pending') return;
    if (body === undefined) {
      this.responses.complete(slot, null);
    } else {
      let frame: Buffer[];
      try {
        // Record data (Fetch) goes into the frame by reference: stored batches reach the socket
        // without being copied into a response buffer.
        frame = encodeResponseFrameChunks(api.response, responseVersion, ctx.correlationId, body);
      } catch (error) {
        this.failRequest(slot, ctx, error);
        return;
      }
      this.responses.complete(slot, frame);
    }
    this.scheduleFlush();
  }

  /**
   * A request the protocol cannot serve (bad size prefix, malformed header or body, unknown API, a
   * version no response in the specs can answer): the stream may be out of step, so the connection
   * closes after the responses already owed.
   * Logged once: nothing else is read from this connection.
   */
  private rejectRequest(
    error: unknown,
    apiKey: number | null,
    correlationId: number | null,
    reason = 'malformed request',
  ): void {
    if (this.state !== 'open') return;
    this.log.warn({ apiKey, correlationId, err: error }, `closing connection: ${reason}`);
    this.stopTakingRequests();
    this.responses.closeAfterLast();
    this.scheduleFlush();
  }

  /** The dispatcher threw, rejected, or returned a body that cannot be encoded: a broker bug. */
  private failRequest(slot: ResponseSlot<RequestTiming>, ctx: RequestContext, error: unknown): void {
    this.log.error(
      { apiKey: ctx.apiKey, apiVersion: ctx.apiVersion, correlationId: ctx.correlationId, err: error },
      'closing connection: request handler failed',
    );
    if (this.state === 'closed') return;
    this.stopTakingRequests();
    this.responses.closeAt(slot);
    this.scheduleFlush();
  }

  private stopTakingRequests(): void {
    this.state = 'closing';
    this.backlog = [];
    this.updateReading();
  }

  /** Writes responses once per tick, so all that became ready together go out in one batch. */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.state === 'closed') return;
    this.flushScheduled = true;
    process.nextTick(() => this.guard(() => this.flush()));
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.state === 'closed' || this.shut || this.socket.destroyed) return;
    const { slots, close } = this.responses.takeReady();
    if (slots.length > 0) {
      const now = this.options.clock.monotonic();
      let bytes = 0;
      this.socket.cork();
      for (const slot of slots) {
        if (slot.frame !== null) {
          for (const chunk of slot.frame) if (!this.socket.write(chunk)) this.writeBlocked = true;
          bytes += slot.bytes;
        }
        const seconds = (now - slot.meta.receivedAt) / 1000;
        this.options.metrics.observe('tributary_request_duration_seconds', seconds, { api: slot.meta.api });
      }
      this.socket.uncork();
      if (bytes > 0) this.options.metrics.increment('tributary_bytes_out_total', undefined, bytes);
    }
    if (close) this.shutdown();
    else this.pump();
  }

  /** Shuts our side once the writes are out, and reads on until the client closes or time runs out. */
  private shutdown(): void {
    this.shut = true;
    this.socket.end();
    this.lingerTimer = this.options.clock.schedule(CLOSE_LINGER_MS, () => this.socket.destroy());
    this.updateReading();
  }

  private onClose(): void {
    this.state = 'closed';
    this.backlog = [];
    this.lingerTimer?.cancel();
    this.log.debug('connection closed');
  }

  /** Event callbacks must never throw: an exception there would end the process, not the connection. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.log.error({ err: error }, 'closing connection: unexpected error');
      this.socket.destroy();
    }
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function peekApiKey(frame: Buffer): number | null {
  return frame.length >= 2 ? frame.readInt16BE(0) : null;
}

function peekCorrelationId(frame: Buffer): number | null {
  return frame.length >= 8 ? frame.readInt32BE(4) : null;
}
