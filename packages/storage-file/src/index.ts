// @tributary/storage-file: the durable segment-log storage adapter, the broker's default.
export { CLEANER_CHECKPOINT_FILE, type CompactionResult } from './compactor.js';
export { CLEAN_SHUTDOWN_FILE, FileStorage, PRODUCER_ID_FILE, TOPICS_DIR } from './file-storage.js';
export { LOCK_FILE } from './lock.js';
export {
  DEFAULT_CLEANER_BACKOFF_MS,
  DEFAULT_CLEANER_MAX_KEYS,
  DEFAULT_DELETE_RETENTION_MS,
  DEFAULT_HOT_TAIL_BYTES,
  DEFAULT_HOT_TAIL_TOTAL_BYTES,
  DEFAULT_INDEX_INTERVAL_BYTES,
  DEFAULT_MIN_CLEANABLE_DIRTY_RATIO,
  DEFAULT_SEGMENT_BYTES,
  DEFAULT_SEGMENT_MS,
  type FileStorageOptions,
  type FlushPolicy,
  type StorageClock,
  type StorageLogger,
} from './options.js';
export { LOG_START_FILE, PARTITION_METADATA_FILE } from './partition-log.js';
export { SNAPSHOT_SUFFIX, snapshotFileName } from './producer-snapshot.js';
export {
  CLEANED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  SWAP_SUFFIX,
  segmentFileName,
  TIME_INDEX_SUFFIX,
} from './segment.js';
