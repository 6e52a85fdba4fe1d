import {
  type AddPartitionsToTxnRequest,
  type AddPartitionsToTxnRequestAddPartitionsToTxnTopic,
  type AddPartitionsToTxnResponse,
  type AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult,
  createAddPartitionsToTxnResponse,
  ErrorCode,
} from '@tributary/codec';
import type { PartitionError, TransactionCoordinator } from '../../transactions/transaction-coordinator.js';
import type { RequestContext } from '../request-context.js';

export interface AddPartitionsToTxnServices {
  readonly transactions: Pick<TransactionCoordinator, 'addPartitionsToTxn'>;
}

/**
 * AddPartitionsToTxn. Up to v3 a client adds partitions to its one transaction. From v4 brokers
 * batch transactions, each either verified (VerifyOnly, KIP-890: are these partitions in the
 * transaction?) or added on a transactions v2 producer's behalf (v5). Codes follow what each
 * version knows: PRODUCER_FENCED reads INVALID_PRODUCER_EPOCH before v2, TRANSACTION_ABORTABLE
 * reads INVALID_TXN_STATE before v5.
 */
export async function handleAddPartitionsToTxn(
  s: AddPartitionsToTxnServices,
  ctx: RequestContext,
  req: AddPartitionsToTxnRequest,
): Promise<AddPartitionsToTxnResponse> {
  const v = ctx.apiVersion;
  const forVersion = (code: number): number => {
    if (v < 2 && code === ErrorCode.PRODUCER_FENCED) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (v < 5 && code === ErrorCode.TRANSACTION_ABORTABLE) return ErrorCode.INVALID_TXN_STATE;
    return code;
  };
  if (v < 4) {
    const errors = await s.transactions.addPartitionsToTxn({
      transactionalId: req.v3AndBelowTransactionalId,
      producerId: req.v3AndBelowProducerId,
      producerEpoch: req.v3AndBelowProducerEpoch,
      partitions: flatten(req.v3AndBelowTopics),
      verifyOnly: false,
      transactionVersion: 0,
    });
    return createAddPartitionsToTxnResponse({
      resultsByTopicV3AndBelow: byTopic(req.v3AndBelowTopics, errors, forVersion),
    });
  }
  const resultsByTransaction = await Promise.all(
    req.transactions.map(async (t) => {
      const errors = await s.transactions.addPartitionsToTxn({
        transactionalId: t.transactionalId,
        producerId: t.producerId,
        producerEpoch: t.producerEpoch,
        partitions: flatten(t.topics),
        verifyOnly: t.verifyOnly,
        // A broker adds partitions itself only for a transactions v2 producer (Produce v12+).
        transactionVersion: !t.verifyOnly && v >= 5 ? 2 : 0,
      });
      return { transactionalId: t.transactionalId, topicResults: byTopic(t.topics, errors, forVersion) };
    }),
  );
  return createAddPartitionsToTxnResponse({ errorCode: ErrorCode.NONE, resultsByTransaction });
}

function flatten(topics: readonly AddPartitionsToTxnRequestAddPartitionsToTxnTopic[]) {
  return topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
}

/** The coordinator answers per partition in request order; the response groups them by topic again. */
function byTopic(
  topics: readonly AddPartitionsToTxnRequestAddPartitionsToTxnTopic[],
  errors: readonly PartitionError[],
  forVersion: (code: number) => number,
): AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult[] {
  let i = 0;
  return topics.map((t) => ({
    name: t.name,
    resultsByPartition: t.partitions.map((partitionIndex) => ({
      partitionIndex,
      partitionErrorCode: forVersion(errors[i++]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR),
    })),
  }));
}
