import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';
import { hasPythonModule, requireTool, run, SYSTEM_PYTHON } from './tools.js';

// confluent-kafka-python (librdkafka): idempotence, transactions mixing commits and aborts,
// fencing, and a consume-transform-produce loop with send_offsets_to_transaction.

const missing = requireTool(hasPythonModule('confluent_kafka'));
let broker: BrokerProcess;

interface Seen {
  idem_unflushed: number;
  idem_delivered: { error: string | null; partition: number; offset: number; value: string }[];
  idem_consumed: string[];
  txn_committed: string[];
  txn_all: string[];
  txn_read_committed: string[];
  txn_read_uncommitted: string[];
  fence_older_commit: { name: string; fatal: boolean } | null;
  fence_read_committed: string[];
  copy_input: string[];
  copy_committed: number[];
  copy_output: string[];
  [error: `error_${string}`]: string;
}

const sorted = (values: readonly string[]) => [...values].sort();

describe.skipIf(missing)('confluent-kafka-python exactly-once', () => {
  let seen: Seen;

  beforeAll(async () => {
    broker = await startBrokerProcess();
    const script = join(import.meta.dirname, 'python/transactions_interop.py');
    const r = await run(SYSTEM_PYTHON, [script, broker.bootstrap, 'eos-ckpy'], '', 150_000);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    seen = JSON.parse(r.stdout) as Seen;
  }, 160_000);
  afterAll(async () => {
    await broker?.close();
  });

  it('runs every step without an exception', () => {
    expect(Object.entries(seen).filter(([k]) => k.startsWith('error_'))).toEqual([]);
  });

  it('delivers every idempotent message once, each at its own offset', () => {
    expect(seen.idem_unflushed).toBe(0);
    expect(seen.idem_delivered.filter((d) => d.error !== null)).toEqual([]);
    const places = new Set(seen.idem_delivered.map((d) => `${d.partition}/${d.offset}`));
    expect(places.size).toBe(300);
    expect(sorted(seen.idem_consumed)).toEqual(sorted(seen.idem_delivered.map((d) => d.value)));
  });

  it('shows read_committed consumers exactly the committed transactions, read_uncommitted ones everything', () => {
    expect(sorted(seen.txn_read_committed)).toEqual(sorted(seen.txn_committed));
    expect(sorted(seen.txn_read_uncommitted)).toEqual(sorted(seen.txn_all));
  });

  it('fences the older producer of a transactional id; only the newer one commits', () => {
    expect(seen.fence_older_commit).not.toBeNull();
    expect(seen.fence_older_commit!.name).toMatch(/FENCED|EPOCH/);
    expect(seen.fence_read_committed).toEqual(['current']);
  });

  it('copies a topic exactly once with send_offsets_to_transaction', () => {
    expect(sorted(seen.copy_output)).toEqual(sorted(seen.copy_input.map((v) => `copy-${v}`)));
    expect(seen.copy_committed).toEqual([40, 40]);
  });
});
