import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  type ErrorCodeName,
  errorInfo,
  errorName,
  isRetriable,
  KAFKA_ERRORS,
  KafkaProtocolError,
} from './error-codes.js';

// Checked one by one against Kafka's error list and the superclass of each error's exception class.
const WELL_KNOWN: ReadonlyArray<readonly [code: number, name: ErrorCodeName, retriable: boolean]> = [
  [-1, 'UNKNOWN_SERVER_ERROR', false],
  [0, 'NONE', false],
  [1, 'OFFSET_OUT_OF_RANGE', false],
  [2, 'CORRUPT_MESSAGE', true],
  [3, 'UNKNOWN_TOPIC_OR_PARTITION', true],
  [5, 'LEADER_NOT_AVAILABLE', true],
  [6, 'NOT_LEADER_OR_FOLLOWER', true],
  [7, 'REQUEST_TIMED_OUT', true],
  [8, 'BROKER_NOT_AVAILABLE', false],
  [9, 'REPLICA_NOT_AVAILABLE', true],
  [10, 'MESSAGE_TOO_LARGE', false],
  [13, 'NETWORK_EXCEPTION', true],
  [14, 'COORDINATOR_LOAD_IN_PROGRESS', true],
  [15, 'COORDINATOR_NOT_AVAILABLE', true],
  [16, 'NOT_COORDINATOR', true],
  [19, 'NOT_ENOUGH_REPLICAS', true],
  [20, 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', true],
  [22, 'ILLEGAL_GENERATION', false],
  [25, 'UNKNOWN_MEMBER_ID', false],
  [27, 'REBALANCE_IN_PROGRESS', false],
  [29, 'TOPIC_AUTHORIZATION_FAILED', false],
  [35, 'UNSUPPORTED_VERSION', false],
  [36, 'TOPIC_ALREADY_EXISTS', false],
  [41, 'NOT_CONTROLLER', true],
  [42, 'INVALID_REQUEST', false],
  [47, 'INVALID_PRODUCER_EPOCH', false],
  [51, 'CONCURRENT_TRANSACTIONS', true],
  [56, 'KAFKA_STORAGE_ERROR', true],
  [58, 'SASL_AUTHENTICATION_FAILED', false],
  [59, 'UNKNOWN_PRODUCER_ID', false],
  [70, 'FETCH_SESSION_ID_NOT_FOUND', true],
  [74, 'FENCED_LEADER_EPOCH', true],
  [75, 'UNKNOWN_LEADER_EPOCH', true],
  [78, 'OFFSET_NOT_AVAILABLE', true],
  [84, 'ELECTION_NOT_NEEDED', true],
  [89, 'THROTTLING_QUOTA_EXCEEDED', true],
  [90, 'PRODUCER_FENCED', false],
  [100, 'UNKNOWN_TOPIC_ID', true],
  [110, 'FENCED_MEMBER_EPOCH', false],
  [113, 'STALE_MEMBER_EPOCH', false],
  [133, 'SHARE_SESSION_LIMIT_REACHED', true],
  [135, 'STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED', false],
];

// Every error whose Kafka exception extends RetriableException; all others must be non-retriable.
const RETRIABLE: readonly ErrorCodeName[] = [
  'CORRUPT_MESSAGE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'REPLICA_NOT_AVAILABLE',
  'NETWORK_EXCEPTION',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'NOT_CONTROLLER',
  'CONCURRENT_TRANSACTIONS',
  'KAFKA_STORAGE_ERROR',
  'FETCH_SESSION_ID_NOT_FOUND',
  'INVALID_FETCH_SESSION_EPOCH',
  'LISTENER_NOT_FOUND',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'OFFSET_NOT_AVAILABLE',
  'PREFERRED_LEADER_NOT_AVAILABLE',
  'ELIGIBLE_LEADERS_NOT_AVAILABLE',
  'ELECTION_NOT_NEEDED',
  'UNSTABLE_OFFSET_COMMIT',
  'THROTTLING_QUOTA_EXCEEDED',
  'UNKNOWN_TOPIC_ID',
  'INCONSISTENT_TOPIC_ID',
  'FETCH_SESSION_TOPIC_ID_ERROR',
  'SHARE_SESSION_NOT_FOUND',
  'INVALID_SHARE_SESSION_EPOCH',
  'SHARE_SESSION_LIMIT_REACHED',
];

describe('error code table', () => {
  it('lists every code from -1 to 135 once, in code order', () => {
    const codes = KAFKA_ERRORS.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).toEqual(Array.from({ length: 137 }, (_, i) => i - 1));
  });

  it('uses each name once and agrees with ErrorCode', () => {
    const names = KAFKA_ERRORS.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(Object.keys(ErrorCode));
    for (const e of KAFKA_ERRORS) expect(ErrorCode[e.name]).toBe(e.code);
  });

  it('keeps every code within int16', () => {
    for (const e of KAFKA_ERRORS) {
      expect(Number.isInteger(e.code)).toBe(true);
      expect(e.code).toBeGreaterThanOrEqual(-0x8000);
      expect(e.code).toBeLessThanOrEqual(0x7fff);
    }
  });

  it('gives every entry a non-empty message', () => {
    for (const e of KAFKA_ERRORS) expect(e.message.trim(), e.name).not.toBe('');
  });

  it.each(WELL_KNOWN)('knows %i as %s (retriable: %s)', (code, name, retriable) => {
    expect(ErrorCode[name]).toBe(code);
    expect(errorName(code)).toBe(name);
    expect(isRetriable(code)).toBe(retriable);
    expect(errorInfo(code)).toMatchObject({ code, name, retriable });
  });

  it('marks exactly the errors Kafka retries as retriable', () => {
    const retriable = KAFKA_ERRORS.filter((e) => e.retriable).map((e) => e.name);
    expect([...retriable].sort()).toEqual([...RETRIABLE].sort());
  });

  it('carries Kafka default messages', () => {
    expect(errorInfo(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)?.message).toBe(
      'This server does not host this topic-partition.',
    );
    expect(errorInfo(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)?.message).toBe(
      "The coordinator is loading and hence can't process requests.",
    );
  });

  it('answers undefined for codes Kafka does not define', () => {
    for (const code of [-2, 136, 1000, 0x7fff, -0x8000, 1.5, Number.NaN]) {
      expect(errorInfo(code)).toBeUndefined();
      expect(errorName(code)).toBeUndefined();
      expect(isRetriable(code)).toBe(false);
    }
  });

  it('is frozen', () => {
    expect(Object.isFrozen(KAFKA_ERRORS)).toBe(true);
    for (const e of KAFKA_ERRORS) expect(Object.isFrozen(e)).toBe(true);
  });
});

describe('KafkaProtocolError', () => {
  it('carries the code, name and retriable flag with the default message', () => {
    const e = new KafkaProtocolError(ErrorCode.NOT_COORDINATOR);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(16);
    expect(e.name).toBe('NOT_COORDINATOR');
    expect(e.retriable).toBe(true);
    expect(e.message).toBe('This is not the correct coordinator.');
    expect(String(e)).toBe('NOT_COORDINATOR: This is not the correct coordinator.');
  });

  it("prefers the response's own error message", () => {
    const e = new KafkaProtocolError(ErrorCode.INVALID_REQUEST, 'Topic name is empty');
    expect(e.message).toBe('Topic name is empty');
    expect(e.retriable).toBe(false);
  });

  it('falls back to the default message when the response message is null or empty', () => {
    expect(new KafkaProtocolError(ErrorCode.REQUEST_TIMED_OUT, null).message).toBe('The request timed out.');
    expect(new KafkaProtocolError(ErrorCode.REQUEST_TIMED_OUT, '').message).toBe('The request timed out.');
  });

  it('reads an unknown code as a non-retriable UNKNOWN_SERVER_ERROR that keeps its number', () => {
    const e = new KafkaProtocolError(200);
    expect(e.code).toBe(200);
    expect(e.name).toBe('UNKNOWN_SERVER_ERROR');
    expect(e.retriable).toBe(false);
    expect(e.message).toContain('200');
  });

  it('refuses NONE', () => {
    expect(() => new KafkaProtocolError(ErrorCode.NONE)).toThrow(RangeError);
  });
});
