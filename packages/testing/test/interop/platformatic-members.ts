// Consumer group members on @platformatic/kafka for the group interop suites, one per consumer.
import {
  Consumer,
  type ConsumerOptions,
  type MessagesStream,
  stringDeserializers,
} from '@platformatic/kafka';
import { MemoryStorage } from '@tributary/storage-memory';
import type { TestBroker } from '../../src/index.js';

/** Memory storage that survives the broker closing it, so a second broker finds the same data. */
export class KeptStorage extends MemoryStorage {
  override async close(): Promise<void> {}
}

export const clientOptions = (b: TestBroker, clientId: string) => ({
  clientId,
  bootstrapBrokers: [b.bootstrap],
  retries: 5,
  retryDelay: 50,
});

export interface Member {
  readonly topic: string;
  readonly consumer: Consumer<string, string, string, string>;
  readonly stream: MessagesStream<string, string, string, string>;
}

export interface MemberOptions {
  readonly clientId: string;
  readonly groupId: string;
  readonly topic: string;
  /** The consumer's group settings beside the defaults (protocol, timeouts). */
  readonly group?: Partial<ConsumerOptions<string, string, string, string>>;
  /** The consume call's settings beside the defaults. */
  readonly consume?: Record<string, unknown>;
}

/** Starts a member reading `topic` from its committed offsets, recording what it consumes. */
export async function startMember(
  b: TestBroker,
  consumed: { partition: number; offset: number }[],
  o: MemberOptions,
): Promise<Member> {
  const consumer = new Consumer({
    ...clientOptions(b, o.clientId),
    groupId: o.groupId,
    deserializers: stringDeserializers,
    ...o.group,
  });
  const stream = await consumer.consume({
    topics: [o.topic],
    mode: 'committed',
    fallbackMode: 'earliest',
    autocommit: 100,
    maxWaitTime: 200,
    ...o.consume,
  });
  stream.on('data', (m) => consumed.push({ partition: m.partition, offset: Number(m.offset) }));
  return { topic: o.topic, consumer, stream };
}

/**
 * Stops a member: its stream first, then, once a fetch already under way has had time to come back
 * (maxWaitTime is 200 ms), the consumer, which leaves the group. @platformatic/kafka 1.35 throws
 * "Client is closed" out of a metadata callback that lands after `consumer.close()` while its
 * stream is still fetching, as an uncaught exception.
 */
export async function leave(m: Member): Promise<void> {
  await m.stream.close();
  await new Promise((r) => setTimeout(r, 300));
  await m.consumer.close(true);
}

/** The partitions of the member's topic assigned to it. */
export function assigned(m: Member): number[] {
  return (m.consumer.assignments ?? []).filter((a) => a.topic === m.topic).flatMap((a) => a.partitions);
}

/** Every partition assigned to any of the members, sorted (a partition twice shows twice). */
export const coverage = (members: readonly Member[]) => members.flatMap(assigned).sort((a, b) => a - b);
