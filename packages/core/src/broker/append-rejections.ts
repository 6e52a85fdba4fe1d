import { ErrorCode } from '@tributary/codec';
import type { AppendRejection } from '../storage/index.js';

/** The Kafka error code for each way the storage refuses a batch or a marker. */
export const REJECTION_CODES: Readonly<Record<AppendRejection, number>> = {
  'out-of-order-sequence': ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  'invalid-producer-epoch': ErrorCode.INVALID_PRODUCER_EPOCH,
  'invalid-txn-state': ErrorCode.INVALID_TXN_STATE,
  'coordinator-fenced': ErrorCode.TRANSACTION_COORDINATOR_FENCED,
  'not-owner': ErrorCode.NOT_LEADER_OR_FOLLOWER,
};
