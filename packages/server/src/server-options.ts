import { DEFAULT_MAX_FRAME_SIZE } from '@tributary/codec';
import {
  type Clock,
  type Logger,
  type Metrics,
  noopMetrics,
  type RequestDispatcher,
  silentLogger,
  systemClock,
} from '@tributary/core';

export interface KafkaServerOptions {
  /**
   * Serves the decoded requests; the server only frames, decodes and encodes. May instead be given
   * to `startAccepting()` after `listen({ accept: false })`, so that a broker whose settings need the
   * bound address (port 0) is built once that address is known.
   */
  dispatcher?: RequestDispatcher;
  /** Address to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port to bind; 0 picks a free one (read it from `listen()` or `address`). Default 0. */
  port?: number;
  /** Largest request frame accepted, as Kafka's `socket.request.max.bytes`. Default 100 MiB. */
  maxRequestSize?: number;
  /** Requests a connection may have taken in and not yet answered before it stops being read. Default 64. */
  maxInFlightPerConnection?: number;
  /** Response bytes a connection may have waiting to be written before it stops being read. Default 16 MiB. */
  maxQueuedBytesPerConnection?: number;
  logger?: Logger;
  metrics?: Metrics;
  clock?: Clock;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 64;
export const DEFAULT_MAX_QUEUED_BYTES_PER_CONNECTION = 16 * 1024 * 1024;

export type ResolvedServerOptions = Required<Omit<KafkaServerOptions, 'dispatcher'>> & {
  readonly dispatcher: RequestDispatcher | undefined;
};

/** Fills defaults and rejects values that cannot work, naming the option. */
export function resolveServerOptions(options: KafkaServerOptions): ResolvedServerOptions {
  const resolved: ResolvedServerOptions = {
    dispatcher: options.dispatcher,
    host: options.host ?? DEFAULT_HOST,
    port: options.port ?? 0,
    maxRequestSize: options.maxRequestSize ?? DEFAULT_MAX_FRAME_SIZE,
    maxInFlightPerConnection: options.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION,
    maxQueuedBytesPerConnection:
      options.maxQueuedBytesPerConnection ?? DEFAULT_MAX_QUEUED_BYTES_PER_CONNECTION,
    logger: options.logger ?? silentLogger,
    metrics: options.metrics ?? noopMetrics,
    clock: options.clock ?? systemClock,
  };
  requireInteger('port', resolved.port, 0, 65_535);
  // A frame must hold at least a request header's fixed part (api key, version, correlation id).
  requireInteger('maxRequestSize', resolved.maxRequestSize, 8, 0x7fff_ffff);
  requireInteger('maxInFlightPerConnection', resolved.maxInFlightPerConnection, 1, Number.MAX_SAFE_INTEGER);
  requireInteger(
    'maxQueuedBytesPerConnection',
    resolved.maxQueuedBytesPerConnection,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  return resolved;
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
}
