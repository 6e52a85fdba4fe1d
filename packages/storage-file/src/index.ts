// @tributary/storage-file: the durable segment-log storage adapter, the broker's default.
export { CLEAN_SHUTDOWN_FILE, FileStorage, TOPICS_DIR } from './file-storage.js';
export { LOCK_FILE } from './lock.js';
export {
  DEFAULT_HOT_TAIL_BYTES,
  DEFAULT_HOT_TAIL_TOTAL_BYTES,
  DEFAULT_INDEX_INTERVAL_BYTES,
  DEFAULT_SEGMENT_BYTES,
  DEFAULT_SEGMENT_MS,
  type FileStorageOptions,
  type FlushPolicy,
  type StorageClock,
  type StorageLogger,
} from './options.js';
export { LOG_START_FILE, PARTITION_METADATA_FILE } from './partition-log.js';
export { INDEX_SUFFIX, LOG_SUFFIX, segmentFileName, TIME_INDEX_SUFFIX } from './segment.js';
