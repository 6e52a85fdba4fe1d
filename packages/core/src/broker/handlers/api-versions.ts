import { type ApiVersionsResponse, createApiVersionsResponse, ErrorCode } from '@tributary/codec';
import type { ServedApi } from '../request-context.js';

export function apiVersionsResponse(
  served: readonly ServedApi[],
  errorCode: number = ErrorCode.NONE,
): ApiVersionsResponse {
  return createApiVersionsResponse({
    errorCode,
    apiKeys: served.map((a) => ({ apiKey: a.apiKey, minVersion: a.minVersion, maxVersion: a.maxVersion })),
  });
}
