// A dispatcher built on the codec alone, standing in for @tributary/core's in the server's tests.
import {
  ApiKey,
  type ApiVersionsResponse,
  createApiVersionsResponse,
  createListGroupsResponse,
  createMetadataResponse,
  createProduceResponse,
  ErrorCode,
  type ProduceRequest,
} from '@tributary/codec';
import type { RequestContext, RequestDispatcher, ServedApi } from '@tributary/core';

export type Handler = (ctx: RequestContext, request: unknown) => unknown;

/** ApiVersions, Metadata and Produce; ListGroups is in the specs but not served. */
export const SERVED_APIS: readonly ServedApi[] = [
  { apiKey: ApiKey.Produce, minVersion: 3, maxVersion: 13 },
  { apiKey: ApiKey.Metadata, minVersion: 4, maxVersion: 13 },
  { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 4 },
];

export class FakeDispatcher implements RequestDispatcher {
  /** Every dispatch call, in the order the server made them. */
  readonly calls: { ctx: RequestContext; request: unknown }[] = [];
  /** Set by a test to observe the server beginning its shutdown. */
  onBeginShutdown: (() => void) | undefined;

  beginShutdown(): void {
    this.onBeginShutdown?.();
  }
  readonly unsupportedCalls: RequestContext[] = [];
  /** Overrides the default handler per API key. */
  readonly handlers = new Map<number, Handler>();
  /** Overrides the default unsupported answer. */
  unsupportedAnswer: ((ctx: RequestContext) => { body: unknown; responseVersion: number }) | undefined;
  private readonly served: readonly ServedApi[];

  constructor(served: readonly ServedApi[] = SERVED_APIS) {
    this.served = served;
  }

  servedApis(): readonly ServedApi[] {
    return this.served;
  }

  dispatch(ctx: RequestContext, request: unknown): unknown {
    this.calls.push({ ctx, request });
    const handler = this.handlers.get(ctx.apiKey);
    if (handler !== undefined) return handler(ctx, request);
    switch (ctx.apiKey) {
      case ApiKey.ApiVersions:
        return this.apiVersions(ErrorCode.NONE);
      case ApiKey.Metadata:
        return createMetadataResponse();
      case ApiKey.Produce:
        return (request as ProduceRequest).acks === 0 ? undefined : createProduceResponse();
      default:
        throw new Error(`no fake handler for API ${ctx.apiKey}`);
    }
  }

  unsupported(ctx: RequestContext): { body: unknown; responseVersion: number } {
    this.unsupportedCalls.push(ctx);
    if (this.unsupportedAnswer !== undefined) return this.unsupportedAnswer(ctx);
    // Kafka answers an ApiVersions it cannot read at v0, which every client can parse (KIP-511).
    if (ctx.apiKey === ApiKey.ApiVersions)
      return { body: this.apiVersions(ErrorCode.UNSUPPORTED_VERSION), responseVersion: 0 };
    if (ctx.apiKey === ApiKey.ListGroups)
      return {
        body: createListGroupsResponse({ errorCode: ErrorCode.UNSUPPORTED_VERSION }),
        responseVersion: ctx.apiVersion,
      };
    throw new Error(`no fake unsupported answer for API ${ctx.apiKey}`);
  }

  apiVersions(errorCode: number): ApiVersionsResponse {
    return createApiVersionsResponse({
      errorCode,
      apiKeys: this.served.map((s) => ({ ...s })),
    });
  }
}

/** A promise with its resolve and reject exposed. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
