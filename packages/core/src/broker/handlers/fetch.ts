import {
  createFetchResponse,
  EMPTY_BYTES,
  ErrorCode,
  type FetchRequest,
  type FetchResponse,
  type FetchResponseFetchableTopicResponse,
  type FetchResponsePartitionData,
} from '@tributary/codec';
import {
  type AbortedTransaction,
  OffsetOutOfRangeError,
  UnknownPartitionError,
} from '../../storage/index.js';
import { leaderEpochError } from '../leadership.js';
import type { RequestContext } from '../request-context.js';
import { type BrokerServices, big, num } from '../services.js';
import type { PartitionState, Topic } from '../topics.js';

const READ_COMMITTED = 1;

interface PlannedPartition {
  readonly topic: Topic | undefined;
  readonly partition: number;
  readonly fetchOffset: number;
  readonly maxBytes: number;
  readonly currentLeaderEpoch: number;
  readonly out: FetchResponsePartitionData;
  /** What a long poll waits on; undefined for a partition that does not exist. */
  readonly state: PartitionState | undefined;
  /** The state's append count before the last read. */
  appendsBeforeRead: number;
}

function partitionData(partitionIndex: number, errorCode: number): FetchResponsePartitionData {
  return {
    partitionIndex,
    errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    divergingEpoch: { epoch: -1, endOffset: -1n },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: EMPTY_BYTES,
  };
}

/**
 * Fetch. Reads every requested partition within the partition and response byte limits (the first
 * batch is returned even when larger, so a consumer always progresses); if fewer than minBytes are
 * ready it waits for an append to any of the partitions, or for maxWaitMs. Fetch sessions are not
 * created: a client asking for one gets session id 0 and keeps sending full fetches (KIP-227).
 */
export async function handleFetch(
  s: BrokerServices,
  ctx: RequestContext,
  req: FetchRequest,
): Promise<FetchResponse> {
  if (req.sessionId !== 0) {
    return createFetchResponse({
      errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
      sessionId: 0,
      responses: [],
    });
  }
  const byId = ctx.apiVersion >= 13;
  const readCommitted = req.isolationLevel === READ_COMMITTED;
  const responses: FetchResponseFetchableTopicResponse[] = [];
  const plan: PlannedPartition[] = [];
  for (const ft of req.topics) {
    const topic = byId ? s.topics.byId(ft.topicId) : s.topics.byName(ft.topic);
    const partitions: FetchResponsePartitionData[] = [];
    responses.push({ topic: byId ? '' : ft.topic, topicId: ft.topicId, partitions });
    for (const fp of ft.partitions) {
      const out = partitionData(fp.partition, ErrorCode.NONE);
      partitions.push(out);
      plan.push({
        topic,
        partition: fp.partition,
        fetchOffset: num(fp.fetchOffset),
        maxBytes: fp.partitionMaxBytes,
        currentLeaderEpoch: fp.currentLeaderEpoch,
        out,
        state: topic?.partitions[fp.partition],
        appendsBeforeRead: 0,
      });
    }
  }

  const maxWait = Math.max(0, Math.min(req.maxWaitMs, s.config.fetchMaxWaitCapMs));
  const deadline = s.clock.now() + maxWait;
  const mayWait = maxWait > 0 && req.minBytes > 0;
  for (;;) {
    if (mayWait) for (const p of plan) p.appendsBeforeRead = p.state?.appends ?? 0;
    const { bytes, errors } = await readPlan(s, plan, req.maxBytes, readCommitted, byId);
    const remaining = deadline - s.clock.now();
    if (bytes >= req.minBytes || errors || remaining <= 0) break;
    // An append between the reads and now would wake no one: read again instead of waiting.
    if (plan.some((p) => p.state !== undefined && p.state.appends !== p.appendsBeforeRead)) continue;
    const states = plan.flatMap((p) => (p.state === undefined ? [] : [p.state]));
    if (states.length === 0) break;
    await waitForAppend(s, states, remaining);
  }
  s.metrics.increment('tributary_fetch_requests_total');
  return createFetchResponse({ sessionId: 0, responses });
}

async function readPlan(
  s: BrokerServices,
  plan: PlannedPartition[],
  responseMaxBytes: number,
  readCommitted: boolean,
  byId: boolean,
): Promise<{ bytes: number; errors: boolean }> {
  let bytes = 0;
  let errors = false;
  for (const p of plan) {
    const out = p.out;
    const fail = (code: number): void => {
      Object.assign(out, partitionData(p.partition, code));
      errors = true;
    };
    if (p.topic === undefined || p.partition < 0 || p.partition >= p.topic.partitionCount) {
      fail(p.topic === undefined && byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      continue;
    }
    const leaderError = leaderEpochError(s, p.topic.name, p.partition, p.currentLeaderEpoch);
    if (leaderError !== ErrorCode.NONE) {
      fail(leaderError);
      continue;
    }
    const budget = Math.min(p.maxBytes, responseMaxBytes - bytes);
    try {
      const result = await s.storage.read(p.topic.id, p.partition, {
        offset: p.fetchOffset,
        maxBytes: Math.max(0, budget),
        // Kafka's progress rule: the first batch of the response comes back whatever its size.
        minOneBatch: bytes === 0,
        readCommitted,
      });
      let records: Buffer = EMPTY_BYTES;
      if (result.batches.length === 1) records = result.batches[0]!;
      else if (result.batches.length > 1) records = Buffer.concat(result.batches as Buffer[]);
      bytes += records.length;
      out.errorCode = ErrorCode.NONE;
      out.highWatermark = big(result.highWatermark);
      out.lastStableOffset = big(result.lastStableOffset);
      out.logStartOffset = big(result.logStartOffset);
      out.abortedTransactions = readCommitted ? abortedTransactions(result.abortedTransactions) : null;
      out.records = records;
    } catch (e) {
      if (e instanceof OffsetOutOfRangeError) fail(ErrorCode.OFFSET_OUT_OF_RANGE);
      else if (e instanceof UnknownPartitionError) fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      else {
        s.logger.error({ err: e, topic: p.topic.name, partition: p.partition }, 'read failed');
        fail(ErrorCode.KAFKA_STORAGE_ERROR);
      }
    }
  }
  return { bytes, errors };
}

/** The aborted transactions of a read_committed read, as the response carries them (v4+). */
function abortedTransactions(
  aborted: readonly AbortedTransaction[] | undefined,
): FetchResponsePartitionData['abortedTransactions'] {
  if (aborted === undefined || aborted.length === 0) return [];
  return aborted.map((t) => ({ producerId: big(t.producerId), firstOffset: big(t.firstOffset) }));
}

function waitForAppend(s: BrokerServices, states: PartitionState[], ms: number): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      timer.cancel();
      for (const st of states) st.removeWaiter(finish);
      resolve();
    };
    const timer = s.clock.schedule(ms, finish);
    for (const st of states) st.onAppend(finish);
  });
}
