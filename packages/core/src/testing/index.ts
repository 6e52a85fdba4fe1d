// @tributary/core/testing: what adapter and broker tests share. Imports vitest: use from tests only.
export {
  type ConformanceOptions,
  describeStorageConformance,
  makeBatch,
  makeTopic,
} from './storage-conformance.js';
