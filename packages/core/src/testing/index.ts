// @tributary/core/testing: what adapter and broker tests share. Imports vitest: use from tests only.
export {
  appendInput,
  type ConformanceOptions,
  describeStorageConformance,
  type MarkerOptions,
  makeBatch,
  makeProducerBatch,
  makeTopic,
  markerInput,
  type ProducerBatchOptions,
} from './storage-conformance.js';
