/** What a handler knows about the request it serves. */
export interface RequestContext {
  /** Unique per connection within a broker process. */
  readonly connectionId: number;
  readonly clientId: string | null;
  /** `host:port` of the client. */
  readonly clientAddress: string;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
}

/** A served API and the versions the broker advertises for it. */
export interface ServedApi {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/**
 * What the server needs from the core: which APIs it serves, and a handler per request. The server
 * frames, decodes and encodes; the dispatcher sees decoded requests and returns response bodies.
 */
export interface RequestDispatcher {
  /**
   * The APIs served, each within its spec's versions. ApiVersions advertises these, except that
   * Produce is advertised from v0 as Kafka does (see `PRODUCE_ADVERTISED_MIN_VERSION`).
   */
  servedApis(): readonly ServedApi[];
  /**
   * Handles a decoded request of a served API and version. Resolves to the response body, or to
   * `undefined` when Kafka sends no response (Produce with acks=0).
   */
  dispatch(ctx: RequestContext, request: unknown): Promise<unknown> | unknown;
  /**
   * The response body for a request whose API is in the specs but not served, or whose version is
   * outside the served range (ApiVersions answers at v0 with UNSUPPORTED_VERSION and its range:
   * the server encodes the result at `responseVersion`).
   */
  unsupported(ctx: RequestContext): { body: unknown; responseVersion: number };
  /**
   * Optional: called once when the server stops accepting, before it drains. Requests parked for
   * a long wait that shutdown makes pointless (a JoinGroup waiting for a rebalance) should be
   * answered now, so the drain does not wait for them.
   */
  beginShutdown?(): void;
}
