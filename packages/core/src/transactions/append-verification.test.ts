import { ErrorCode } from '@tributary/codec';
import { describe, expect, it } from 'vitest';
import {
  produceTransactionOperation,
  produceVerificationError,
  txnOffsetCommitTransactionOperation,
} from './append-verification.js';

describe('append verification', () => {
  it('picks the check by request version', () => {
    expect([10, 11, 12, 13].map(produceTransactionOperation)).toEqual([
      'default',
      'genericError',
      'addPartition',
      'addPartition',
    ]);
    expect([3, 4, 5].map(txnOffsetCommitTransactionOperation)).toEqual([
      'default',
      'genericError',
      'addPartition',
    ]);
  });

  it('turns retriable coordinator errors into NOT_ENOUGH_REPLICAS for Produce', () => {
    for (const code of [
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
      ErrorCode.NOT_COORDINATOR,
    ])
      expect(produceVerificationError(code, 'addPartition').errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    expect(produceVerificationError(ErrorCode.NOT_COORDINATOR, 'default').errorMessage).toBe(
      'Unable to verify the partition has been added to the transaction. Underlying error: NOT_COORDINATOR',
    );
  });

  it('keeps CONCURRENT_TRANSACTIONS for transactions v2 producers only', () => {
    expect(produceVerificationError(ErrorCode.CONCURRENT_TRANSACTIONS, 'default').errorCode).toBe(
      ErrorCode.NOT_ENOUGH_REPLICAS,
    );
    expect(produceVerificationError(ErrorCode.CONCURRENT_TRANSACTIONS, 'genericError').errorCode).toBe(
      ErrorCode.NOT_ENOUGH_REPLICAS,
    );
    expect(produceVerificationError(ErrorCode.CONCURRENT_TRANSACTIONS, 'addPartition')).toEqual({
      errorCode: ErrorCode.CONCURRENT_TRANSACTIONS,
      errorMessage: null,
    });
  });

  it('explains INVALID_TXN_STATE and passes other codes through', () => {
    expect(produceVerificationError(ErrorCode.INVALID_TXN_STATE, 'default')).toEqual({
      errorCode: ErrorCode.INVALID_TXN_STATE,
      errorMessage: 'Partition was not added to the transaction',
    });
    expect(produceVerificationError(ErrorCode.INVALID_PRODUCER_EPOCH, 'default')).toEqual({
      errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
      errorMessage: null,
    });
  });
});
