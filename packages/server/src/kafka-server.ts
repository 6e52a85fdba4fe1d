import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import type { Clock, Logger, Metrics, RequestDispatcher } from '@tributary/core';
import { Connection } from './connection.js';
import { ServedVersions } from './served-versions.js';
import {
  type KafkaServerOptions,
  type ResolvedServerOptions,
  resolveServerOptions,
} from './server-options.js';

/** How long `close()` waits for in-flight requests by default before closing their sockets. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

export interface ListenOptions {
  /**
   * Whether to serve connections at once (the default). With false the port is bound, so a port
   * conflict surfaces before anything else starts, and connections arriving meanwhile wait unread
   * until `startAccepting()`.
   */
  accept?: boolean;
}

export interface CloseOptions {
  /** How long in-flight requests get to finish and their responses to be written. Default 10 s. */
  drainTimeoutMs?: number;
}

// RequestContext promises connection ids unique within the process, and a process may run several
// servers (one per listener), so the counter is shared by all of them.
let nextConnectionId = 1;

/**
 * A Kafka protocol listener: accepts connections and serves each through the dispatcher. It owns
 * sockets, framing and ordering; what a request means is the dispatcher's business.
 */
export class KafkaServer {
  private readonly options: ResolvedServerOptions;
  private dispatcher: RequestDispatcher | undefined;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly clock: Clock;
  private readonly open = new Set<Connection>();
  private server: Server | undefined;
  private served: ServedVersions | undefined;
  private closing: Promise<void> | undefined;
  private accepting = true;
  /** Connections that arrived before `startAccepting()`, not yet read. */
  private held: Socket[] = [];

  constructor(options: KafkaServerOptions) {
    this.options = resolveServerOptions(options);
    this.dispatcher = this.options.dispatcher;
    this.logger = this.options.logger;
    this.metrics = this.options.metrics;
    this.clock = this.options.clock;
  }

  /** The bound address once listening, else undefined. */
  get address(): ServerAddress | undefined {
    const bound = this.server?.address();
    if (bound === null || bound === undefined || typeof bound === 'string') return undefined;
    return { host: bound.address, port: bound.port };
  }

  /** Open client connections. */
  get connections(): number {
    return this.open.size;
  }

  /** Binds and starts accepting; resolves to the bound address (the real port when `port` was 0). */
  async listen(options: ListenOptions = {}): Promise<ServerAddress> {
    if (this.server !== undefined || this.closing !== undefined)
      throw new Error('the server was already started; create a new one to listen again');
    this.accepting = options.accept ?? true;
    if (this.accepting) this.setDispatcher(this.dispatcher);
    const server = createServer({ noDelay: true, keepAlive: true });
    this.server = server;
    server.on('connection', (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.logger.error({ err: error }, 'listener error'));
    const address = this.address!;
    this.logger.info({ host: address.host, port: address.port }, 'listening');
    return address;
  }

  /**
   * Starts serving after `listen({ accept: false })`, beginning with the connections that waited.
   * The dispatcher is given here when the server was created without one.
   */
  startAccepting(dispatcher?: RequestDispatcher): void {
    if (this.accepting) return;
    if (dispatcher !== undefined && this.dispatcher !== undefined)
      throw new Error('the server already has a dispatcher');
    this.setDispatcher(dispatcher ?? this.dispatcher);
    this.accepting = true;
    const held = this.held;
    this.held = [];
    for (const socket of held) if (!socket.destroyed) this.accept(socket);
  }

  private setDispatcher(dispatcher: RequestDispatcher | undefined): void {
    if (dispatcher === undefined)
      throw new Error('the server has no dispatcher: give one when creating it or to startAccepting()');
    this.dispatcher = dispatcher;
    // The served versions are read once: ApiVersions advertises them, so they must not shift under
    // a client between its ApiVersions request and the requests that follow.
    this.served = new ServedVersions(dispatcher.servedApis());
  }

  /**
   * Stops accepting, lets requests already dispatched finish and their responses be written, then
   * closes each connection. Connections still busy at the deadline are closed regardless.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.drainAndClose(options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
    return this.closing;
  }

  private async drainAndClose(drainTimeoutMs: number): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    // Resolves once the listener is closed and every connection has ended.
    const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      this.dispatcher?.beginShutdown?.();
    } catch (e) {
      this.logger.error({ err: e }, 'dispatcher failed to begin shutdown');
    }
    for (const socket of this.held) socket.destroy();
    this.held = [];
    const connections = [...this.open];
    for (const connection of connections) connection.drain();
    const deadline = this.clock.schedule(drainTimeoutMs, () => {
      if (this.open.size > 0)
        this.logger.warn({ connections: this.open.size }, 'drain deadline passed: closing busy connections');
      for (const connection of this.open) connection.destroy();
    });
    try {
      await Promise.all(connections.map((c) => c.closed));
      await listenerClosed;
    } finally {
      deadline.cancel();
    }
    this.logger.info('closed');
  }

  private accept(socket: Socket): void {
    if (!this.accepting && this.closing === undefined) {
      // Not read until served: with no 'data' listener the socket buffers, then TCP pushes back.
      this.held.push(socket);
      return;
    }
    const { remoteAddress, remotePort } = socket;
    const dispatcher = this.dispatcher;
    if (
      this.closing !== undefined ||
      this.served === undefined ||
      dispatcher === undefined ||
      remoteAddress === undefined
    ) {
      socket.destroy();
      return;
    }
    const connectionId = nextConnectionId++;
    const clientAddress = isIPv6(remoteAddress)
      ? `[${remoteAddress}]:${remotePort}`
      : `${remoteAddress}:${remotePort}`;
    const connection = new Connection({
      socket,
      connectionId,
      clientAddress,
      dispatcher,
      served: this.served,
      maxRequestSize: this.options.maxRequestSize,
      maxInFlight: this.options.maxInFlightPerConnection,
      maxQueuedBytes: this.options.maxQueuedBytesPerConnection,
      logger: this.logger.child({ connectionId, clientAddress }),
      metrics: this.metrics,
      clock: this.clock,
    });
    this.open.add(connection);
    this.metrics.set('tributary_connections', this.open.size);
    socket.once('close', () => {
      this.open.delete(connection);
      this.metrics.set('tributary_connections', this.open.size);
    });
  }
}

export function createKafkaServer(options: KafkaServerOptions): KafkaServer {
  return new KafkaServer(options);
}
