// @tributary/core: the broker's request handlers over an injected storage port.
export {
  Broker,
  type BrokerClusterOptions,
  type BrokerOptions,
  type BrokerParts,
  createBrokerCore,
} from './broker/broker.js';
export { type BrokerConfig, defaultBrokerConfig } from './broker/config.js';
export { type CleanupPolicy, parseCleanupPolicy } from './broker/log-config.js';
export * from './broker/request-context.js';
export { ConfigSource, ConfigType, TOPIC_CONFIGS, type TopicConfigDef } from './broker/topic-configs.js';
export { topicNameProblem } from './broker/topics.js';
export {
  type BrokerRegistration,
  type ClusterStore,
  COORDINATOR_TOPICS,
  coordinatorResource,
  MemoryClusterStore,
  NodeIdInUseError,
  type Ownership,
  partitionResource,
} from './cluster/cluster-store.js';
export {
  chooseOwner,
  LeasedPlacement,
  type LeasedPlacementOptions,
  type OwnershipChange,
  rendezvousScore,
} from './cluster/leased-placement.js';
export {
  type ClusterNode,
  type CoordinatorKind,
  type Leadership,
  type PartitionLeader,
  type Placement,
  SingleNodePlacement,
} from './cluster/placement.js';
export { ClassicGroup, GroupState, type JoinOutcome, type SyncOutcome } from './groups/classic-group.js';
export {
  COMPARISON_WORDS,
  CONSUMER_GROUP_BOUNDS,
  CONSUMER_GROUP_TIMING_NAMES,
  type Comparison,
  compare,
} from './groups/consumer-group-config.js';
export { GroupCoordinator, type GroupCoordinatorOptions } from './groups/group-coordinator.js';
export {
  CONSUMER_OFFSETS_TOPIC,
  decodeGroupLogRecord,
  encodeGroupLogRecord,
  type GroupLogRecord,
  javaStringHash,
  partitionForGroup,
} from './groups/group-log.js';
export * from './services.js';
