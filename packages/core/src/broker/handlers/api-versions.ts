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

/** A feature level the broker runs at (KIP-584), as ApiVersions v3+ reports it. */
export interface FinalizedFeature {
  readonly name: string;
  /** The highest level this broker supports. */
  readonly supported: number;
  /** The level in force; 0 is reported as not finalized, as Kafka leaves a feature at level 0 out. */
  readonly level: number;
}

/**
 * The features a broker with these settings runs: transaction.version (2 is KIP-890's
 * transactions v2; clients that read it, Java's 4.x among them, then bump the epoch on every
 * commit and let Produce add partitions).
 */
export function brokerFeatures(transactionVersion: number): readonly FinalizedFeature[] {
  return [{ name: 'transaction.version', supported: 2, level: transactionVersion }];
}

export function apiVersionsResponse(
  served: readonly ServedApi[],
  errorCode: number = ErrorCode.NONE,
  features: readonly FinalizedFeature[] = [],
): ApiVersionsResponse {
  const finalized = features.filter((f) => f.level > 0);
  return createApiVersionsResponse({
    errorCode,
    supportedFeatures: features.map((f) => ({ name: f.name, minVersion: 0, maxVersion: f.supported })),
    // Levels never change while the broker runs: one epoch serves.
    finalizedFeaturesEpoch: finalized.length > 0 ? 1n : -1n,
    finalizedFeatures: finalized.map((f) => ({
      name: f.name,
      minVersionLevel: f.level,
      maxVersionLevel: f.level,
    })),
    apiKeys: served.map((a) => ({
      apiKey: a.apiKey,
      minVersion: a.apiKey === ApiKey.Produce ? PRODUCE_ADVERTISED_MIN_VERSION : a.minVersion,
      maxVersion: a.maxVersion,
    })),
  });
}
