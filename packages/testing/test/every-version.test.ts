import { API_TABLE, ApiKey, decodeResponseFrame } from '@tributary/codec';
import { buildRecordBatch } from '@tributary/codec/records';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/index.js';
import { WireClient } from './wire.js';

// Every served API at every advertised version, with a default request: the broker must answer
// with a response that encodes at that version (fields a version lacks left at their defaults).
let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

describe('every served API at every advertised version', () => {
  it('answers a default request with a decodable response on a connection that stays open', async () => {
    const client = await WireClient.connect(broker.port);
    const topic = await broker.broker.topics.ensure('sweep', 1);
    const topicId = topic.topicId;
    let answered = 0;
    for (const api of broker.broker.servedApis()) {
      for (let v = api.minVersion; v <= api.maxVersion; v++) {
        const info = API_TABLE[api.apiKey]!;
        const request = info.request.create() as Record<string, unknown>;
        const id = Buffer.alloc(16);
        switch (api.apiKey) {
          case ApiKey.Produce:
            request.acks = 1;
            request.topicData = [
              {
                name: 'sweep',
                topicId: topicId,
                partitionData: [
                  { index: 0, records: buildRecordBatch({ records: [{ value: Buffer.from('v') }] }) },
                ],
              },
            ];
            break;
          case ApiKey.Fetch:
            request.sessionEpoch = -1;
            request.maxBytes = 1 << 20;
            request.topics = [
              {
                topic: 'sweep',
                topicId,
                partitions: [
                  {
                    partition: 0,
                    currentLeaderEpoch: -1,
                    fetchOffset: 0n,
                    lastFetchedEpoch: -1,
                    logStartOffset: -1n,
                    partitionMaxBytes: 1 << 20,
                    replicaDirectoryId: id,
                    highWatermark: -1n,
                  },
                ],
              },
            ];
            break;
          case ApiKey.Metadata:
            request.topics = v === 0 ? [] : null;
            break;
          case ApiKey.ListOffsets:
            request.topics = [
              { name: 'sweep', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] },
            ];
            break;
          case ApiKey.CreateTopics:
            request.topics = [
              { name: `sweep-${v}`, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
            ];
            break;
          case ApiKey.DeleteTopics:
            // CreateTopics made sweep-2..7 (its versions 2-7); DeleteTopics v1-6 remove them.
            if (v >= 6) request.topics = [{ name: `sweep-${v + 1}`, topicId: id }];
            else request.topicNames = [`sweep-${v + 1}`];
            break;
          case ApiKey.FindCoordinator:
            if (v >= 4) request.coordinatorKeys = ['sweep-group'];
            else request.key = 'sweep-group';
            break;
          case ApiKey.JoinGroup: {
            Object.assign(request, joinRequest(`sweep-join-${v}`));
            // v4+ hands a new dynamic member its id first (MEMBER_ID_REQUIRED); v5+ could use an
            // instance id instead, but the two-step join is what clients do.
            if (v >= 4) request.memberId = (await client.send(ApiKey.JoinGroup, v, request)).memberId;
            break;
          }
          case ApiKey.Heartbeat: {
            const m = await joinedMember(client, `sweep-heartbeat-${v}`);
            Object.assign(request, {
              groupId: m.groupId,
              memberId: m.memberId,
              generationId: m.generationId,
            });
            break;
          }
          case ApiKey.SyncGroup: {
            const m = await joinedMember(client, `sweep-sync-${v}`);
            Object.assign(request, {
              groupId: m.groupId,
              memberId: m.memberId,
              generationId: m.generationId,
              protocolType: 'consumer',
              protocolName: 'range',
              assignments: [{ memberId: m.memberId, assignment: Buffer.from('assignment') }],
            });
            break;
          }
          case ApiKey.LeaveGroup: {
            const m = await joinedMember(client, `sweep-leave-${v}`);
            request.groupId = m.groupId;
            if (v >= 3) request.members = [{ memberId: m.memberId, groupInstanceId: null, reason: null }];
            else request.memberId = m.memberId;
            break;
          }
          case ApiKey.OffsetCommit:
            // A standalone commit (generation -1): it creates the group sweep-offsets.
            request.groupId = 'sweep-offsets';
            request.generationIdOrMemberEpoch = -1;
            request.topics = [
              {
                name: 'sweep',
                topicId,
                partitions: [
                  {
                    partitionIndex: 0,
                    committedOffset: 1n,
                    committedLeaderEpoch: -1,
                    committedMetadata: 'm',
                  },
                ],
              },
            ];
            break;
          case ApiKey.OffsetFetch:
            if (v >= 8)
              request.groups = [
                {
                  groupId: 'sweep-offsets',
                  memberId: null,
                  memberEpoch: -1,
                  topics: [{ name: 'sweep', topicId, partitionIndexes: [0] }],
                },
              ];
            else {
              request.groupId = 'sweep-offsets';
              request.topics = [{ name: 'sweep', partitionIndexes: [0] }];
            }
            break;
          case ApiKey.DescribeGroups:
            request.groups = ['sweep-offsets'];
            break;
          case ApiKey.ConsumerGroupHeartbeat:
            Object.assign(request, {
              groupId: `sweep-cg-${v}`,
              memberId: `sweep-member-${v}`,
              memberEpoch: 0,
              rebalanceTimeoutMs: 30_000,
              subscribedTopicNames: ['sweep'],
              topicPartitions: [],
            });
            break;
          case ApiKey.ConsumerGroupDescribe:
            request.groupIds = [`sweep-cg-${v}`];
            break;
          case ApiKey.OffsetDelete:
            request.groupId = 'sweep-offsets';
            request.topics = [{ name: 'sweep', partitions: [{ partitionIndex: 0 }] }];
            break;
          case ApiKey.InitProducerId:
            Object.assign(request, { transactionalId: null, transactionTimeoutMs: 60_000 });
            break;
          case ApiKey.AddPartitionsToTxn: {
            const p = await transactionalProducer(client, `sweep-add-${v}`);
            if (v >= 4)
              request.transactions = [
                {
                  transactionalId: p.transactionalId,
                  producerId: p.producerId,
                  producerEpoch: p.producerEpoch,
                  verifyOnly: false,
                  topics: [{ name: 'sweep', partitions: [0] }],
                },
              ];
            else
              Object.assign(request, {
                v3AndBelowTransactionalId: p.transactionalId,
                v3AndBelowProducerId: p.producerId,
                v3AndBelowProducerEpoch: p.producerEpoch,
                v3AndBelowTopics: [{ name: 'sweep', partitions: [0] }],
              });
            break;
          }
          case ApiKey.AddOffsetsToTxn:
            Object.assign(request, await transactionalProducer(client, `sweep-add-offsets-${v}`), {
              groupId: 'sweep-offsets',
            });
            break;
          case ApiKey.EndTxn: {
            const p = await transactionalProducer(client, `sweep-end-${v}`);
            await addPartition(client, p);
            Object.assign(request, p, { committed: true });
            break;
          }
          case ApiKey.TxnOffsetCommit: {
            const p = await transactionalProducer(client, `sweep-txn-offsets-${v}`);
            await client.send(ApiKey.AddOffsetsToTxn, 3, {
              ...p,
              groupId: 'sweep-offsets',
              unknownTaggedFields: [],
            });
            Object.assign(request, p, {
              groupId: 'sweep-offsets',
              generationId: -1,
              memberId: '',
              topics: [
                {
                  name: 'sweep',
                  partitions: [
                    {
                      partitionIndex: 0,
                      committedOffset: 1n,
                      committedLeaderEpoch: -1,
                      committedMetadata: '',
                    },
                  ],
                },
              ],
            });
            break;
          }
          case ApiKey.DescribeProducers:
            request.topics = [{ name: 'sweep', partitionIndexes: [0] }];
            break;
          case ApiKey.DescribeTransactions:
            request.transactionalIds = ['sweep-end-0'];
            break;
        }
        const frame = await client.sendRaw(api.apiKey, v, request);
        const { body } = decodeResponseFrame<Record<string, unknown>>(frame, api.apiKey, v);
        // Every topic-level and partition-level error code in the answer is NONE.
        expect(
          JSON.stringify(body, (k, x) =>
            typeof x === 'bigint' ? String(x) : k === 'errorCode' && x !== 0 ? `error ${x}` : x,
          ),
          `${info.name} v${v}`,
        ).not.toMatch(/error \d/);
        answered++;
      }
    }
    expect(answered).toBeGreaterThan(50);
    client.close();
  });
});

/** A transactional producer's id and epoch, fresh from InitProducerId. */
async function transactionalProducer(
  client: WireClient,
  transactionalId: string,
): Promise<{ transactionalId: string; producerId: bigint; producerEpoch: number }> {
  const init = await client.send(ApiKey.InitProducerId, 4, {
    ...(API_TABLE[ApiKey.InitProducerId]!.request.create() as object),
    transactionalId,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
  });
  expect(init.errorCode).toBe(0);
  return { transactionalId, producerId: init.producerId, producerEpoch: init.producerEpoch };
}

async function addPartition(
  client: WireClient,
  p: { transactionalId: string; producerId: bigint; producerEpoch: number },
): Promise<void> {
  const added = await client.send(ApiKey.AddPartitionsToTxn, 3, {
    ...(API_TABLE[ApiKey.AddPartitionsToTxn]!.request.create() as object),
    v3AndBelowTransactionalId: p.transactionalId,
    v3AndBelowProducerId: p.producerId,
    v3AndBelowProducerEpoch: p.producerEpoch,
    v3AndBelowTopics: [{ name: 'sweep', partitions: [0] }],
  });
  expect(added.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode).toBe(0);
}

function joinRequest(groupId: string) {
  return {
    groupId,
    sessionTimeoutMs: 30_000,
    rebalanceTimeoutMs: 30_000,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('subscription') }],
    reason: null,
  };
}

/** A member of a new one-member group, through the two-step join (the test broker has no initial delay). */
async function joinedMember(
  client: WireClient,
  groupId: string,
): Promise<{ groupId: string; memberId: string; generationId: number }> {
  const first = await client.send(ApiKey.JoinGroup, 9, joinRequest(groupId));
  const joined = await client.send(ApiKey.JoinGroup, 9, {
    ...joinRequest(groupId),
    memberId: first.memberId,
  });
  expect(joined.errorCode).toBe(0);
  return { groupId, memberId: joined.memberId, generationId: joined.generationId };
}
