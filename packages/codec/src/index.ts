// @tributary/codec: Kafka's wire protocol for Node.js. Messages and the API table are generated
// from Kafka's JSON message specs (src/generated); the runtime beside them is handwritten.
export * from './generated/index.js';
export {
  ErrorCode,
  type ErrorCodeName,
  errorInfo,
  errorName,
  isRetriable,
  type KafkaErrorInfo,
  KafkaProtocolError,
} from './protocol/error-codes.js';
export { DecodeError, EncodeError } from './protocol/errors.js';
export {
  apiInfo,
  DEFAULT_MAX_FRAME_SIZE,
  decodeRequestBody,
  decodeResponseFrame,
  encodeChunks,
  encodeRequestFrame,
  encodeRequestFrameChunks,
  encodeResponseFrame,
  encodeResponseFrameChunks,
  FrameSizeError,
  FrameSplitter,
  type ParsedRequestHeader,
  parseRequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from './protocol/framing.js';
export { MAX_STRING_LENGTH, Reader } from './protocol/reader.js';
export {
  EMPTY_BYTES,
  type MessageDescriptor,
  type SpecType,
  type TaggedField,
  ZERO_UUID,
} from './protocol/runtime.js';
export {
  bytesSize,
  compactBytesSize,
  compactStringSize,
  DEFAULT_SPLICE_THRESHOLD,
  stringSize,
  utf8Length,
  uvarintSize,
  varintSize,
  varlongSize,
  Writer,
} from './protocol/writer.js';
