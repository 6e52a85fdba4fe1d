import { ApiKey, type ApiVersionsResponse, createApiVersionsResponse, ErrorCode } from '@tributary/codec';
import type { ServedApi } from '../request-context.js';

/**
 * The lowest Produce version advertised, below the lowest served (v3). Kafka 4 removed Produce
 * v0-v2 (KIP-896) but still advertises Produce from v0 (KAFKA-18659,
 * `ApiKeys.PRODUCE_API_VERSIONS_RESPONSE_MIN_VERSION`): librdkafka before the fix for its issue
 * #4956 (Debian's 2.0.2 among them) compresses with gzip, snappy or lz4 only when the broker's
 * Produce range reaches v0, and otherwise sends those batches uncompressed without a word. A
 * request below v3 is still not served: the connection closes, as on Kafka.
 */
export const PRODUCE_ADVERTISED_MIN_VERSION = 0;

export function apiVersionsResponse(
  served: readonly ServedApi[],
  errorCode: number = ErrorCode.NONE,
): ApiVersionsResponse {
  return createApiVersionsResponse({
    errorCode,
    apiKeys: served.map((a) => ({
      apiKey: a.apiKey,
      minVersion: a.apiKey === ApiKey.Produce ? PRODUCE_ADVERTISED_MIN_VERSION : a.minVersion,
      maxVersion: a.maxVersion,
    })),
  });
}
