/**
 * Kafka's protocol error codes: every int16 a response can carry in an ErrorCode field, with Kafka's name
 * for it, its default message, and whether a client may retry the request that produced it.
 *
 * The table mirrors Kafka's error list as of Kafka 4.4 (codes -1 to 135). A code is part of the wire
 * contract and never changes meaning (Kafka has renamed errors, never renumbered them). A broker built on
 * Tributary returns exactly the code a Kafka broker would, and clients read the retriable flag to decide
 * between backing off and giving up.
 *
 * Adding an error from a new Kafka release:
 *   1. Add `NAME: code` to `ErrorCode`, in code order, spelled as Kafka spells the constant.
 *   2. Add its row to `DETAILS`: retriable is true exactly when Kafka's exception class for the code
 *      extends RetriableException (directly or through InvalidMetadataException or
 *      RefreshRetriableException), and the message is Kafka's default message.
 *   3. Update the Kafka version and code range named above, and the range the test expects.
 * The type of `DETAILS` rejects a row for a name `ErrorCode` lacks and a name in `ErrorCode` without a row;
 * the test rejects a reused code.
 */

export const ErrorCode = {
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_FETCH_SIZE: 4,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  BROKER_NOT_AVAILABLE: 8,
  REPLICA_NOT_AVAILABLE: 9,
  MESSAGE_TOO_LARGE: 10,
  STALE_CONTROLLER_EPOCH: 11,
  OFFSET_METADATA_TOO_LARGE: 12,
  NETWORK_EXCEPTION: 13,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REPLICA_ASSIGNMENT: 39,
  INVALID_CONFIG: 40,
  NOT_CONTROLLER: 41,
  INVALID_REQUEST: 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  POLICY_VIOLATION: 44,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  INVALID_TRANSACTION_TIMEOUT: 50,
  CONCURRENT_TRANSACTIONS: 51,
  TRANSACTION_COORDINATOR_FENCED: 52,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  SECURITY_DISABLED: 54,
  OPERATION_NOT_ATTEMPTED: 55,
  KAFKA_STORAGE_ERROR: 56,
  LOG_DIR_NOT_FOUND: 57,
  SASL_AUTHENTICATION_FAILED: 58,
  UNKNOWN_PRODUCER_ID: 59,
  REASSIGNMENT_IN_PROGRESS: 60,
  DELEGATION_TOKEN_AUTH_DISABLED: 61,
  DELEGATION_TOKEN_NOT_FOUND: 62,
  DELEGATION_TOKEN_OWNER_MISMATCH: 63,
  DELEGATION_TOKEN_REQUEST_NOT_ALLOWED: 64,
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: 65,
  DELEGATION_TOKEN_EXPIRED: 66,
  INVALID_PRINCIPAL_TYPE: 67,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  FETCH_SESSION_ID_NOT_FOUND: 70,
  INVALID_FETCH_SESSION_EPOCH: 71,
  LISTENER_NOT_FOUND: 72,
  TOPIC_DELETION_DISABLED: 73,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  STALE_BROKER_EPOCH: 77,
  OFFSET_NOT_AVAILABLE: 78,
  MEMBER_ID_REQUIRED: 79,
  PREFERRED_LEADER_NOT_AVAILABLE: 80,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
  ELIGIBLE_LEADERS_NOT_AVAILABLE: 83,
  ELECTION_NOT_NEEDED: 84,
  NO_REASSIGNMENT_IN_PROGRESS: 85,
  GROUP_SUBSCRIBED_TO_TOPIC: 86,
  INVALID_RECORD: 87,
  UNSTABLE_OFFSET_COMMIT: 88,
  THROTTLING_QUOTA_EXCEEDED: 89,
  PRODUCER_FENCED: 90,
  RESOURCE_NOT_FOUND: 91,
  DUPLICATE_RESOURCE: 92,
  UNACCEPTABLE_CREDENTIAL: 93,
  INCONSISTENT_VOTER_SET: 94,
  INVALID_UPDATE_VERSION: 95,
  FEATURE_UPDATE_FAILED: 96,
  PRINCIPAL_DESERIALIZATION_FAILURE: 97,
  SNAPSHOT_NOT_FOUND: 98,
  POSITION_OUT_OF_RANGE: 99,
  UNKNOWN_TOPIC_ID: 100,
  DUPLICATE_BROKER_REGISTRATION: 101,
  BROKER_ID_NOT_REGISTERED: 102,
  INCONSISTENT_TOPIC_ID: 103,
  INCONSISTENT_CLUSTER_ID: 104,
  TRANSACTIONAL_ID_NOT_FOUND: 105,
  FETCH_SESSION_TOPIC_ID_ERROR: 106,
  INELIGIBLE_REPLICA: 107,
  NEW_LEADER_ELECTED: 108,
  OFFSET_MOVED_TO_TIERED_STORAGE: 109,
  FENCED_MEMBER_EPOCH: 110,
  UNRELEASED_INSTANCE_ID: 111,
  UNSUPPORTED_ASSIGNOR: 112,
  STALE_MEMBER_EPOCH: 113,
  MISMATCHED_ENDPOINT_TYPE: 114,
  UNSUPPORTED_ENDPOINT_TYPE: 115,
  UNKNOWN_CONTROLLER_ID: 116,
  UNKNOWN_SUBSCRIPTION_ID: 117,
  TELEMETRY_TOO_LARGE: 118,
  INVALID_REGISTRATION: 119,
  TRANSACTION_ABORTABLE: 120,
  INVALID_RECORD_STATE: 121,
  SHARE_SESSION_NOT_FOUND: 122,
  INVALID_SHARE_SESSION_EPOCH: 123,
  FENCED_STATE_EPOCH: 124,
  INVALID_VOTER_KEY: 125,
  DUPLICATE_VOTER: 126,
  VOTER_NOT_FOUND: 127,
  INVALID_REGULAR_EXPRESSION: 128,
  REBOOTSTRAP_REQUIRED: 129,
  STREAMS_INVALID_TOPOLOGY: 130,
  STREAMS_INVALID_TOPOLOGY_EPOCH: 131,
  STREAMS_TOPOLOGY_FENCED: 132,
  SHARE_SESSION_LIMIT_REACHED: 133,
  GROUP_DELETION_FAILED: 134,
  STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED: 135,
} as const;

/** Kafka's name for an error code, e.g. `UNKNOWN_TOPIC_OR_PARTITION`. */
export type ErrorCodeName = keyof typeof ErrorCode;

export interface KafkaErrorInfo {
  /** The int16 carried on the wire. */
  readonly code: number;
  readonly name: ErrorCodeName;
  /** Whether a client may retry the same request and expect it to succeed once the condition passes. */
  readonly retriable: boolean;
  /** Kafka's default message, used when a response carries no error message of its own. */
  readonly message: string;
}

const RETRIABLE = true;
const NOT_RETRIABLE = false;

// biome-ignore format: one row per error, like Kafka's own list, even where a row outruns the line width
const DETAILS: { readonly [N in ErrorCodeName]: readonly [retriable: boolean, message: string] } = {
  UNKNOWN_SERVER_ERROR: [NOT_RETRIABLE, 'The server experienced an unexpected error when processing the request.'],
  // Kafka gives NONE no message; a non-empty one keeps every entry printable.
  NONE: [NOT_RETRIABLE, 'No error.'],
  OFFSET_OUT_OF_RANGE: [NOT_RETRIABLE, 'The requested offset is not within the range of offsets maintained by the server.'],
  CORRUPT_MESSAGE: [RETRIABLE, 'This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt.'],
  UNKNOWN_TOPIC_OR_PARTITION: [RETRIABLE, 'This server does not host this topic-partition.'],
  INVALID_FETCH_SIZE: [NOT_RETRIABLE, 'The requested fetch size is invalid.'],
  LEADER_NOT_AVAILABLE: [RETRIABLE, 'There is no leader for this topic-partition as we are in the middle of a leadership election.'],
  NOT_LEADER_OR_FOLLOWER: [RETRIABLE, 'For requests intended only for the leader, this error indicates that the broker is not the current leader. For requests intended for any replica, this error indicates that the broker is not a replica of the topic partition.'],
  REQUEST_TIMED_OUT: [RETRIABLE, 'The request timed out.'],
  BROKER_NOT_AVAILABLE: [NOT_RETRIABLE, 'The broker is not available.'],
  REPLICA_NOT_AVAILABLE: [RETRIABLE, 'The replica is not available for the requested topic-partition. Produce/Fetch requests and other requests intended only for the leader or follower return NOT_LEADER_OR_FOLLOWER if the broker is not a replica of the topic-partition.'],
  MESSAGE_TOO_LARGE: [NOT_RETRIABLE, 'The request included a message larger than the max message size the server will accept.'],
  STALE_CONTROLLER_EPOCH: [NOT_RETRIABLE, 'The controller moved to another broker.'],
  OFFSET_METADATA_TOO_LARGE: [NOT_RETRIABLE, 'The metadata field of the offset request was too large.'],
  NETWORK_EXCEPTION: [RETRIABLE, 'The server disconnected before a response was received.'],
  COORDINATOR_LOAD_IN_PROGRESS: [RETRIABLE, "The coordinator is loading and hence can't process requests."],
  COORDINATOR_NOT_AVAILABLE: [RETRIABLE, 'The coordinator is not available.'],
  NOT_COORDINATOR: [RETRIABLE, 'This is not the correct coordinator.'],
  INVALID_TOPIC_EXCEPTION: [NOT_RETRIABLE, 'The request attempted to perform an operation on an invalid topic.'],
  RECORD_LIST_TOO_LARGE: [NOT_RETRIABLE, 'The request included message batch larger than the configured segment size on the server.'],
  NOT_ENOUGH_REPLICAS: [RETRIABLE, 'Messages are rejected since there are fewer in-sync replicas than required.'],
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: [RETRIABLE, 'Messages are written to the log, but to fewer in-sync replicas than required.'],
  INVALID_REQUIRED_ACKS: [NOT_RETRIABLE, 'Produce request specified an invalid value for required acks.'],
  ILLEGAL_GENERATION: [NOT_RETRIABLE, 'Specified group generation id is not valid.'],
  INCONSISTENT_GROUP_PROTOCOL: [NOT_RETRIABLE, "The group member's supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list."],
  INVALID_GROUP_ID: [NOT_RETRIABLE, 'The group id is invalid.'],
  UNKNOWN_MEMBER_ID: [NOT_RETRIABLE, 'The coordinator is not aware of this member.'],
  INVALID_SESSION_TIMEOUT: [NOT_RETRIABLE, 'The session timeout is not within the range allowed by the broker (as configured by group.min.session.timeout.ms and group.max.session.timeout.ms).'],
  REBALANCE_IN_PROGRESS: [NOT_RETRIABLE, 'The group is rebalancing, so a rejoin is needed.'],
  INVALID_COMMIT_OFFSET_SIZE: [NOT_RETRIABLE, 'The committing offset data size is not valid.'],
  TOPIC_AUTHORIZATION_FAILED: [NOT_RETRIABLE, 'Topic authorization failed.'],
  GROUP_AUTHORIZATION_FAILED: [NOT_RETRIABLE, 'Group authorization failed.'],
  CLUSTER_AUTHORIZATION_FAILED: [NOT_RETRIABLE, 'Cluster authorization failed.'],
  INVALID_TIMESTAMP: [NOT_RETRIABLE, 'The timestamp of the message is out of acceptable range.'],
  UNSUPPORTED_SASL_MECHANISM: [NOT_RETRIABLE, 'The broker does not support the requested SASL mechanism.'],
  ILLEGAL_SASL_STATE: [NOT_RETRIABLE, 'Request is not valid given the current SASL state.'],
  UNSUPPORTED_VERSION: [NOT_RETRIABLE, 'The version of API is not supported.'],
  TOPIC_ALREADY_EXISTS: [NOT_RETRIABLE, 'Topic with this name already exists.'],
  INVALID_PARTITIONS: [NOT_RETRIABLE, 'Number of partitions is below 1.'],
  INVALID_REPLICATION_FACTOR: [NOT_RETRIABLE, 'Replication factor is below 1 or larger than the number of available brokers.'],
  INVALID_REPLICA_ASSIGNMENT: [NOT_RETRIABLE, 'Replica assignment is invalid.'],
  INVALID_CONFIG: [NOT_RETRIABLE, 'Configuration is invalid.'],
  NOT_CONTROLLER: [RETRIABLE, 'This is not the correct controller for this cluster.'],
  INVALID_REQUEST: [NOT_RETRIABLE, 'This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details.'],
  UNSUPPORTED_FOR_MESSAGE_FORMAT: [NOT_RETRIABLE, 'The message format version on the broker does not support the request.'],
  POLICY_VIOLATION: [NOT_RETRIABLE, 'Request parameters do not satisfy the configured policy.'],
  OUT_OF_ORDER_SEQUENCE_NUMBER: [NOT_RETRIABLE, 'The broker received an out of order sequence number.'],
  DUPLICATE_SEQUENCE_NUMBER: [NOT_RETRIABLE, 'The broker received a duplicate sequence number.'],
  INVALID_PRODUCER_EPOCH: [NOT_RETRIABLE, 'Producer attempted to produce with an old epoch.'],
  INVALID_TXN_STATE: [NOT_RETRIABLE, 'The producer attempted a transactional operation in an invalid state.'],
  INVALID_PRODUCER_ID_MAPPING: [NOT_RETRIABLE, 'The producer attempted to use a producer id which is not currently assigned to its transactional id.'],
  INVALID_TRANSACTION_TIMEOUT: [NOT_RETRIABLE, 'The transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms).'],
  CONCURRENT_TRANSACTIONS: [RETRIABLE, 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing.'],
  TRANSACTION_COORDINATOR_FENCED: [NOT_RETRIABLE, 'Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the current coordinator for a given producer.'],
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: [NOT_RETRIABLE, 'Transactional Id authorization failed.'],
  SECURITY_DISABLED: [NOT_RETRIABLE, 'Security features are disabled.'],
  OPERATION_NOT_ATTEMPTED: [NOT_RETRIABLE, 'The broker did not attempt to execute this operation. This may happen for batched RPCs where some operations in the batch failed, causing the broker to respond without trying the rest.'],
  KAFKA_STORAGE_ERROR: [RETRIABLE, 'Disk error when trying to access log file on the disk.'],
  LOG_DIR_NOT_FOUND: [NOT_RETRIABLE, 'The user-specified log directory is not found in the broker config.'],
  SASL_AUTHENTICATION_FAILED: [NOT_RETRIABLE, 'SASL Authentication failed.'],
  UNKNOWN_PRODUCER_ID: [NOT_RETRIABLE, "This exception is raised by the broker if it could not locate the producer metadata associated with the producerId in question. This could happen if, for instance, the producer's records were deleted because their retention time had elapsed. Once the last records of the producerId are removed, the producer's metadata is removed from the broker, and future appends by the producer will return this exception."],
  REASSIGNMENT_IN_PROGRESS: [NOT_RETRIABLE, 'A partition reassignment is in progress.'],
  DELEGATION_TOKEN_AUTH_DISABLED: [NOT_RETRIABLE, 'Delegation Token feature is not enabled.'],
  DELEGATION_TOKEN_NOT_FOUND: [NOT_RETRIABLE, 'Delegation Token is not found on server.'],
  DELEGATION_TOKEN_OWNER_MISMATCH: [NOT_RETRIABLE, 'Specified Principal is not valid Owner/Renewer.'],
  DELEGATION_TOKEN_REQUEST_NOT_ALLOWED: [NOT_RETRIABLE, 'Delegation Token requests are not allowed on PLAINTEXT/1-way SSL channels and on delegation token authenticated channels.'],
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: [NOT_RETRIABLE, 'Delegation Token authorization failed.'],
  DELEGATION_TOKEN_EXPIRED: [NOT_RETRIABLE, 'Delegation Token is expired.'],
  INVALID_PRINCIPAL_TYPE: [NOT_RETRIABLE, 'Supplied principalType is not supported.'],
  NON_EMPTY_GROUP: [NOT_RETRIABLE, 'The group is not empty.'],
  GROUP_ID_NOT_FOUND: [NOT_RETRIABLE, 'The group id does not exist.'],
  FETCH_SESSION_ID_NOT_FOUND: [RETRIABLE, 'The fetch session ID was not found.'],
  INVALID_FETCH_SESSION_EPOCH: [RETRIABLE, 'The fetch session epoch is invalid.'],
  LISTENER_NOT_FOUND: [RETRIABLE, 'There is no listener on the leader broker that matches the listener on which metadata request was processed.'],
  TOPIC_DELETION_DISABLED: [NOT_RETRIABLE, 'Topic deletion is disabled.'],
  FENCED_LEADER_EPOCH: [RETRIABLE, 'The leader epoch in the request is older than the epoch on the broker.'],
  UNKNOWN_LEADER_EPOCH: [RETRIABLE, 'The leader epoch in the request is newer than the epoch on the broker.'],
  UNSUPPORTED_COMPRESSION_TYPE: [NOT_RETRIABLE, 'The requesting client does not support the compression type of given partition.'],
  STALE_BROKER_EPOCH: [NOT_RETRIABLE, 'Broker epoch has changed.'],
  OFFSET_NOT_AVAILABLE: [RETRIABLE, 'The leader high watermark has not caught up from a recent leader election so the offsets cannot be guaranteed to be monotonically increasing.'],
  MEMBER_ID_REQUIRED: [NOT_RETRIABLE, 'The group member needs to have a valid member id before actually entering a consumer group.'],
  PREFERRED_LEADER_NOT_AVAILABLE: [RETRIABLE, 'The preferred leader was not available.'],
  GROUP_MAX_SIZE_REACHED: [NOT_RETRIABLE, 'The group has reached its maximum size.'],
  FENCED_INSTANCE_ID: [NOT_RETRIABLE, 'The broker rejected this static consumer since another consumer with the same group.instance.id has registered with a different member.id.'],
  ELIGIBLE_LEADERS_NOT_AVAILABLE: [RETRIABLE, 'Eligible topic partition leaders are not available.'],
  ELECTION_NOT_NEEDED: [RETRIABLE, 'Leader election not needed for topic partition.'],
  NO_REASSIGNMENT_IN_PROGRESS: [NOT_RETRIABLE, 'No partition reassignment is in progress.'],
  GROUP_SUBSCRIBED_TO_TOPIC: [NOT_RETRIABLE, 'Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.'],
  INVALID_RECORD: [NOT_RETRIABLE, 'This record has failed the validation on broker and hence will be rejected.'],
  UNSTABLE_OFFSET_COMMIT: [RETRIABLE, 'There are unstable offsets that need to be cleared.'],
  THROTTLING_QUOTA_EXCEEDED: [RETRIABLE, 'The throttling quota has been exceeded.'],
  PRODUCER_FENCED: [NOT_RETRIABLE, 'There is a newer producer with the same transactionalId which fences the current one.'],
  RESOURCE_NOT_FOUND: [NOT_RETRIABLE, 'A request illegally referred to a resource that does not exist.'],
  DUPLICATE_RESOURCE: [NOT_RETRIABLE, 'A request illegally referred to the same resource twice.'],
  UNACCEPTABLE_CREDENTIAL: [NOT_RETRIABLE, 'Requested credential would not meet criteria for acceptability.'],
  INCONSISTENT_VOTER_SET: [NOT_RETRIABLE, 'Indicates that the either the sender or recipient of a voter-only request is not one of the expected voters.'],
  INVALID_UPDATE_VERSION: [NOT_RETRIABLE, 'The given update version was invalid.'],
  FEATURE_UPDATE_FAILED: [NOT_RETRIABLE, 'Unable to update finalized features due to an unexpected server error.'],
  PRINCIPAL_DESERIALIZATION_FAILURE: [NOT_RETRIABLE, 'Request principal deserialization failed during forwarding. This indicates an internal error on the broker cluster security setup.'],
  SNAPSHOT_NOT_FOUND: [NOT_RETRIABLE, 'Requested snapshot was not found.'],
  POSITION_OUT_OF_RANGE: [NOT_RETRIABLE, 'Requested position is not greater than or equal to zero, and less than the size of the snapshot.'],
  UNKNOWN_TOPIC_ID: [RETRIABLE, 'This server does not host this topic ID.'],
  DUPLICATE_BROKER_REGISTRATION: [NOT_RETRIABLE, 'This broker ID is already in use.'],
  BROKER_ID_NOT_REGISTERED: [NOT_RETRIABLE, 'The given broker ID was not registered.'],
  INCONSISTENT_TOPIC_ID: [RETRIABLE, "The log's topic ID did not match the topic ID in the request."],
  INCONSISTENT_CLUSTER_ID: [NOT_RETRIABLE, 'The clusterId in the request does not match that found on the server.'],
  TRANSACTIONAL_ID_NOT_FOUND: [NOT_RETRIABLE, 'The transactionalId could not be found.'],
  FETCH_SESSION_TOPIC_ID_ERROR: [RETRIABLE, 'The fetch session encountered inconsistent topic ID usage.'],
  INELIGIBLE_REPLICA: [NOT_RETRIABLE, 'The new ISR contains at least one ineligible replica.'],
  NEW_LEADER_ELECTED: [NOT_RETRIABLE, 'The AlterPartition request successfully updated the partition state but the leader has changed.'],
  OFFSET_MOVED_TO_TIERED_STORAGE: [NOT_RETRIABLE, 'The requested offset is moved to tiered storage.'],
  FENCED_MEMBER_EPOCH: [NOT_RETRIABLE, 'The member epoch is fenced by the group coordinator. The member must abandon all its partitions and rejoin.'],
  UNRELEASED_INSTANCE_ID: [NOT_RETRIABLE, 'The instance ID is still used by another member in the consumer group. That member must leave first.'],
  UNSUPPORTED_ASSIGNOR: [NOT_RETRIABLE, 'The assignor or its version range is not supported by the consumer group.'],
  STALE_MEMBER_EPOCH: [NOT_RETRIABLE, 'The member epoch is stale. The member must retry after receiving its updated member epoch via the ConsumerGroupHeartbeat API.'],
  MISMATCHED_ENDPOINT_TYPE: [NOT_RETRIABLE, 'The request was sent to an endpoint of the wrong type.'],
  UNSUPPORTED_ENDPOINT_TYPE: [NOT_RETRIABLE, 'This endpoint type is not supported yet.'],
  UNKNOWN_CONTROLLER_ID: [NOT_RETRIABLE, 'This controller ID is not known.'],
  UNKNOWN_SUBSCRIPTION_ID: [NOT_RETRIABLE, 'Client sent a push telemetry request with an invalid or outdated subscription ID.'],
  TELEMETRY_TOO_LARGE: [NOT_RETRIABLE, 'Client sent a push telemetry request larger than the maximum size the broker will accept.'],
  INVALID_REGISTRATION: [NOT_RETRIABLE, 'The controller has considered the broker registration to be invalid.'],
  TRANSACTION_ABORTABLE: [NOT_RETRIABLE, 'The server encountered an error with the transaction. The client can abort the transaction to continue using this transactional ID.'],
  INVALID_RECORD_STATE: [NOT_RETRIABLE, 'The record state is invalid. The acknowledgement of delivery could not be completed.'],
  SHARE_SESSION_NOT_FOUND: [RETRIABLE, 'The share session was not found.'],
  INVALID_SHARE_SESSION_EPOCH: [RETRIABLE, 'The share session epoch is invalid.'],
  FENCED_STATE_EPOCH: [NOT_RETRIABLE, 'The share coordinator rejected the request because the share-group state epoch did not match.'],
  INVALID_VOTER_KEY: [NOT_RETRIABLE, "The voter key doesn't match the receiving replica's key."],
  DUPLICATE_VOTER: [NOT_RETRIABLE, 'The voter is already part of the set of voters.'],
  VOTER_NOT_FOUND: [NOT_RETRIABLE, 'The voter is not part of the set of voters.'],
  INVALID_REGULAR_EXPRESSION: [NOT_RETRIABLE, 'The regular expression is not valid.'],
  REBOOTSTRAP_REQUIRED: [NOT_RETRIABLE, 'Client metadata is stale. The client should rebootstrap to obtain new metadata.'],
  STREAMS_INVALID_TOPOLOGY: [NOT_RETRIABLE, 'The supplied topology is invalid.'],
  STREAMS_INVALID_TOPOLOGY_EPOCH: [NOT_RETRIABLE, 'The supplied topology epoch is invalid.'],
  STREAMS_TOPOLOGY_FENCED: [NOT_RETRIABLE, 'The supplied topology epoch is outdated.'],
  SHARE_SESSION_LIMIT_REACHED: [RETRIABLE, 'The limit of share sessions has been reached.'],
  GROUP_DELETION_FAILED: [NOT_RETRIABLE, 'DeleteGroups could not complete; see the error message on the per-group result for details.'],
  STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED: [NOT_RETRIABLE, 'The broker could not process the topology description update; see the error message for details.'],
};

/** Every error Kafka defines, ordered by code. Frozen, as are its entries. */
export const KAFKA_ERRORS: readonly KafkaErrorInfo[] = Object.freeze(
  (Object.keys(ErrorCode) as ErrorCodeName[]).map((name) => {
    const [retriable, message] = DETAILS[name];
    return Object.freeze({ code: ErrorCode[name], name, retriable, message });
  }),
);

const BY_CODE: ReadonlyMap<number, KafkaErrorInfo> = new Map(KAFKA_ERRORS.map((info) => [info.code, info]));

/** The entry for a wire error code, or undefined for a code Kafka does not define. */
export function errorInfo(code: number): KafkaErrorInfo | undefined {
  return BY_CODE.get(code);
}

/** Kafka's name for a wire error code, or undefined for a code Kafka does not define. */
export function errorName(code: number): ErrorCodeName | undefined {
  return BY_CODE.get(code)?.name;
}

/**
 * Whether a request that failed with this code may be retried. An unknown code is not retriable: Kafka's
 * own clients read a code they do not know as UNKNOWN_SERVER_ERROR.
 */
export function isRetriable(code: number): boolean {
  return BY_CODE.get(code)?.retriable ?? false;
}

/**
 * A response carried a non-zero error code; for clients and tools that would rather throw than branch.
 * `name` is Kafka's name for the code, so the error prints as `NOT_COORDINATOR: This is not the correct
 * coordinator.` A code the table does not know keeps its number in `code` and is named
 * UNKNOWN_SERVER_ERROR, the way Kafka's own clients read it.
 */
export class KafkaProtocolError extends Error {
  override readonly name: ErrorCodeName;
  readonly code: number;
  readonly retriable: boolean;

  /**
   * @param code the error code from the response; must not be NONE.
   * @param message the response's own error message, when it has one; otherwise the code's default message.
   */
  constructor(code: number, message?: string | null) {
    if (code === ErrorCode.NONE) throw new RangeError('error code 0 (NONE) is not an error');
    const info = BY_CODE.get(code);
    super(message || (info?.message ?? `Unknown error code ${code}.`));
    this.name = info?.name ?? 'UNKNOWN_SERVER_ERROR';
    this.code = code;
    this.retriable = info?.retriable ?? false;
  }
}
