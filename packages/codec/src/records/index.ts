/**
 * `@tributary/codec/records`: record batches (magic 2), legacy message sets (magic 0/1, decode
 * only), CRC-32C, control records and the compression codecs.
 *
 * Numbers and bigints: offsets and producer ids are int64 in Kafka, so header snapshots and
 * decoded records carry them as bigint. The broker's hot path reads them as numbers instead
 * (`baseOffsetNumber`, `producerIdNumber`, `assignOffsets(records, number)`), exact below 2^53 and
 * a DecodeError beyond, which no real log reaches. Timestamps are always numbers of milliseconds.
 */

export {
  type CompressionCodec,
  type CompressionName,
  CompressionRegistry,
  CompressionType,
  compressionName,
  compressionTypeOf,
  DEFAULT_MAX_DECOMPRESSED_SIZE,
  defaultCompression,
  gzipCodec,
  isCompressionType,
  isXerialFramed,
  lz4Codec,
  lz4JsCodec,
  lz4NativeCodec,
  snappyCodec,
  snappyJsCodec,
  snappyNativeCodec,
  zstdCodec,
  zstdJsCodec,
  zstdNativeCodec,
  zstdZlibCodec,
} from '../compression/index.js';
export {
  batchAttributes,
  COMPRESSION_MASK,
  CONTROL_BIT,
  compressionOf,
  DELETE_HORIZON_BIT,
  hasDeleteHorizon,
  isControl,
  isTransactional,
  TIMESTAMP_TYPE_BIT,
  TimestampType,
  TRANSACTIONAL_BIT,
  timestampTypeOf,
} from './attributes.js';
export {
  buildEndTxnMarkerBatch,
  ControlRecordType,
  type EndTxnMarker,
  type EndTxnMarkerBatchInput,
  encodeControlRecordKey,
  encodeEndTxnMarkerValue,
  parseControlRecordKey,
  parseEndTxnMarker,
} from './control-record.js';
export { crc32c, crc32cImplementation, crc32cJs, crc32cNative, crc32cNativeAvailable } from './crc32c.js';
export { InvalidRecordBatchError, type RecordBatchProblem } from './invalid-record-error.js';
export {
  crc32,
  decodeLegacyMessageSet,
  type LegacyMessage,
  type ReadLegacyOptions,
} from './legacy-message-set.js';
export {
  type BuildOptions,
  buildRecordBatch,
  type RecordBatchInput,
  type RecordHeaderInput,
  type RecordInput,
} from './record-batch-builder.js';
export {
  CURRENT_MAGIC,
  LOG_OVERHEAD,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  NO_TIMESTAMP,
  RECORD_BATCH_OVERHEAD,
} from './record-batch-layout.js';
export {
  type DecodedRecord,
  type DecodedRecordBatch,
  decodeRecordBatch,
  iterateRecordBatches,
  iterateRecords,
  openRecords,
  type ReadRecordsOptions,
} from './record-batch-reader.js';
export {
  assignOffsets,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
} from './record-batch-rewrite.js';
export {
  type RecordBatchHeader,
  RecordBatchScanner,
  readRecordBatchHeader,
  scanRecordBatches,
} from './record-batch-scanner.js';
export { type ValidateOptions, validateRecordBatch, validateRecords } from './record-batch-validate.js';
export { RecordCursor, type RecordHeader } from './record-cursor.js';
