// @tributary/server: the broker's network layer. It accepts Kafka protocol connections, frames and
// decodes requests, hands them to a RequestDispatcher from @tributary/core, and writes responses
// back in request order.

export { type BrokerHandle, type CreateBrokerOptions, createBroker } from './create-broker.js';
export {
  type CloseOptions,
  createKafkaServer,
  DEFAULT_DRAIN_TIMEOUT_MS,
  KafkaServer,
  type ListenOptions,
  type ServerAddress,
} from './kafka-server.js';
export {
  DEFAULT_HOST,
  DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION,
  DEFAULT_MAX_QUEUED_BYTES_PER_CONNECTION,
  type KafkaServerOptions,
} from './server-options.js';
