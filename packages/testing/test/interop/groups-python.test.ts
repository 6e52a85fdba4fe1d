import { join } from 'node:path';
import { MemoryStorage } from '@tributary/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../src/index.js';
import { hasPythonModule, requireTool, run, SYSTEM_PYTHON } from './tools.js';

/** Memory storage that survives the broker closing it, so a second broker finds the same data. */
class KeptStorage extends MemoryStorage {
  override async close(): Promise<void> {}
}

const SCRIPT = join(import.meta.dirname, 'python/groups_interop.py');
const PARTITIONS = [0, 1, 2, 3, 4, 5];
const PER_PARTITION = 30;

let broker: TestBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

// biome-ignore lint/suspicious/noExplicitAny: the script's JSON is checked field by field
async function phase(client: string, name: string, topic: string, group: string): Promise<any> {
  const r = await run(SYSTEM_PYTHON, [SCRIPT, client, name, broker!.bootstrap, topic, group], '', 55_000);
  expect(r.code, r.stderr.slice(-3000)).toBe(0);
  return JSON.parse(r.stdout);
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

function groupSuite(client: string, module: string) {
  const missing = requireTool(hasPythonModule(module));
  describe.skipIf(missing)(`${client} consumer group`, () => {
    it('splits 6 partitions over 3 members, rebalances when one leaves, commits, and resumes after a broker restart', async () => {
      const storage = new KeptStorage();
      broker = await startTestBroker({ storage });
      const topic = `${client}-groups`;
      const group = `${client}-group`;
      const split = await phase(client, 'split', topic, group);
      // Three members: disjoint and complete.
      expect(sorted(split.three.flat())).toEqual(PARTITIONS);
      expect(split.three.map((a: number[]) => a.length)).toEqual([2, 2, 2]);
      expect(split.described).toMatchObject({ state: expect.stringMatching(/stable/i), members: 3 });
      expect(split.described.listed).toContain(group);
      // One left: the other two cover every partition.
      expect(sorted(split.two.flat())).toEqual(PARTITIONS);
      // Consumed equals produced, with no gaps.
      const expected = PARTITIONS.flatMap((p) => Array.from({ length: 2 * PER_PARTITION }, (_, o) => [p, o]));
      expect(split.consumed).toEqual(expected);
      const committed = broker.broker.groups.fetchOffsets(group, null);
      expect(committed.topics[0]!.partitions.map((p) => p.offset)).toEqual(
        PARTITIONS.map(() => 2 * PER_PARTITION),
      );

      await broker.close();
      broker = await startTestBroker({ storage });
      const resume = await phase(client, 'resume', topic, group);
      expect(resume.consumed).toEqual(PARTITIONS.map((p) => [p, 2 * PER_PARTITION]));
    }, 60_000);
  });
}

groupSuite('confluent', 'confluent_kafka');
groupSuite('kafka-python', 'kafka');

describe.skipIf(requireTool(hasPythonModule('confluent_kafka')))('librdkafka group features', () => {
  it('keeps a static member in the group across its restart without a rebalance', async () => {
    broker = await startTestBroker();
    await broker.broker.topics.ensure('ck-static', 6);
    const out = await phase('confluent', 'static', 'ck-static', 'ck-static-group');
    expect(out.first).toEqual(PARTITIONS);
    expect(out.second).toEqual(PARTITIONS);
    // One generation only: the returning instance took its old place.
    const group = broker.broker.groups.group('ck-static-group')!;
    expect(group.generationId).toBe(1);
    expect([...group.staticMembers.keys()]).toEqual(['static-1']);
  }, 60_000);

  it('rebalances cooperative-sticky members through repeated joins and a leave', async () => {
    broker = await startTestBroker();
    await broker.broker.topics.ensure('ck-coop', 6);
    const out = await phase('confluent', 'cooperative', 'ck-coop', 'ck-coop-group');
    const history = out.history as number[][][];
    expect(history).toHaveLength(4);
    for (const step of history) {
      expect(sorted(step.flat())).toEqual(PARTITIONS);
      expect(step.every((a) => a.length > 0)).toBe(true);
    }
    expect(history[2]!.map((a) => a.length)).toEqual([2, 2, 2]);
    // Cooperative rebalancing takes two generations per change: revoke, then assign.
    expect(broker.broker.groups.group('ck-coop-group')!.generationId).toBeGreaterThanOrEqual(6);
  }, 60_000);
});
