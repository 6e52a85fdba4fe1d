// Rows beside the main table. Context, not for comparison: the clients' shipped Produce encoders
// build record batches from messages and their shipped Fetch decoders parse every record; the
// codec keeps records as opaque bytes, so Tributary has no figure there.
import { deepStrictEqual, strictEqual } from 'node:assert';
import { decodeProduceRequest, encodeFetchResponse } from '@tributary/codec';
import {
  BASE_TIMESTAMP,
  fetchResponse,
  PARTITIONS,
  partitionMessages,
  RECORDS_PER_BATCH,
  TOPIC,
} from './fixtures.js';
import type { Subject } from './harness.js';
import { fetchV11Response, produceV7Request } from './libs/kafkajs.js';
import { fetchV12, produceV7, Reader } from './libs/platformatic.js';

export interface ContextGroup {
  /** `context`: the clients' record-level functions. */
  section: 'context';
  title: string;
  bytes: number;
  subjects: Subject[];
}

export async function contextGroups(batches: readonly Buffer[]): Promise<ContextGroup[]> {
  const perPartition = Array.from({ length: PARTITIONS }, (_, p) => partitionMessages(p));

  const kafkajsProduce = async () =>
    (
      await produceV7Request({
        acks: -1,
        timeout: 30_000,
        transactionalId: null,
        topicData: [
          { topic: TOPIC, partitions: perPartition.map((messages, partition) => ({ partition, messages })) },
        ],
      }).encode()
    ).buffer;
  const platformaticProduce = () =>
    produceV7.createRequest(
      -1,
      30_000,
      perPartition.flatMap((messages, partition) =>
        messages.map((m) => ({
          topic: TOPIC,
          partition,
          key: m.key!,
          value: m.value!,
          timestamp: BigInt(m.timestamp ?? BASE_TIMESTAMP),
        })),
      ),
    ).buffer;

  // Both clients must write the very batches the main table moves as opaque bytes.
  const produceBytes = await kafkajsProduce();
  for (const bytes of [produceBytes, platformaticProduce()]) {
    const decoded = decodeProduceRequest(bytes, 7);
    deepStrictEqual(
      decoded.topicData[0]!.partitionData.map((p) => p.records),
      [...batches],
      'a client wrote record batches that differ from the fixture',
    );
  }

  const message = fetchResponse(batches);
  const v11 = encodeFetchResponse(message, 11);
  const v12 = encodeFetchResponse(message, 12);
  const kafkajsFetch = () => fetchV11Response.decode(v11);
  const platformaticFetch = () => fetchV12.parseResponse(0, 1, 12, Reader.from(v12));

  const expectedValues = perPartition.map((ms) => ms.map((m) => m.value!));
  const kjs = await kafkajsFetch();
  deepStrictEqual(
    kjs.responses[0]!.partitions.map((p) => p.messages.map((m) => m.value)),
    expectedValues,
    'KafkaJS decoded different records',
  );
  const plt = platformaticFetch();
  deepStrictEqual(
    plt.responses[0]!.partitions.map((p) => p.records!.flatMap((b) => b.records.map((r) => r.value))),
    expectedValues,
    '@platformatic/kafka decoded different records',
  );
  strictEqual(expectedValues.flat().length, PARTITIONS * RECORDS_PER_BATCH);

  return [
    {
      section: 'context',
      title: 'Produce v7 request from messages (builds 4 record batches)',
      bytes: produceBytes.length,
      subjects: [
        { label: 'KafkaJS v7', run: kafkajsProduce },
        { label: '@platformatic/kafka v7', run: platformaticProduce },
      ],
    },
    {
      section: 'context',
      title: 'Fetch response to records (parses 1,024 records)',
      bytes: v11.length,
      subjects: [
        { label: 'KafkaJS v11', run: kafkajsFetch },
        { label: '@platformatic/kafka v12', run: platformaticFetch },
      ],
    },
  ];
}
