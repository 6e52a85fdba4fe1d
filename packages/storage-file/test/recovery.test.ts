import {
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { readRecordBatchHeader, validateRecordBatch } from '@tributary/codec/records';
import type { StoredTopic } from '@tributary/core/storage';
import { makeBatch, makeTopic } from '@tributary/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStorage, type FileStorageOptions } from '../src/index.js';
import { appendInput, type LogLine, recordingLogger, tempDir } from './helpers.js';

const idOf = (t: StoredTopic) => t.topicId.toString('base64url');
const started: FileStorage[] = [];

async function start(options: Partial<FileStorageOptions> & { dataDir: string }): Promise<FileStorage> {
  const s = new FileStorage({ flush: { mode: 'always' }, ...options });
  await s.open();
  started.push(s);
  return s;
}

afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
});

const SEGMENT = '00000000000000000000.log';

function truncationReason(lines: LogLine[]): string | undefined {
  const line = lines.find((l) => l.msg?.includes('truncated'));
  return (line?.obj as { reason?: string } | undefined)?.reason;
}

/**
 * Writes `count` batches of 3 records to a topic and returns a copy of the data directory taken
 * while the storage was open (what a crash leaves) with the batch sizes.
 */
async function crashedDir(count: number, options: Partial<FileStorageOptions> = {}) {
  const dir = tempDir();
  const s = await start({ dataDir: dir, ...options });
  const t = makeTopic('t');
  await s.createTopic(t);
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) {
    const b = makeBatch(3, 1_000 + i, 60);
    sizes.push(b.length);
    await s.append(idOf(t), 0, appendInput(b));
  }
  const copy = tempDir();
  cpSync(dir, copy, { recursive: true });
  return { dir: copy, topic: t, sizes, pdir: join(copy, 't-0') };
}

async function checkLog(s: FileStorage, t: StoredTopic, batches: number): Promise<void> {
  expect(await s.offsets(idOf(t), 0)).toEqual({
    logStartOffset: 0,
    highWatermark: batches * 3,
    lastStableOffset: batches * 3,
  });
  const r = await s.read(idOf(t), 0, { offset: 0, maxBytes: 1 << 20, minOneBatch: true });
  expect(r.batches).toHaveLength(batches);
  r.batches.forEach((b, i) => {
    expect(() => validateRecordBatch(b)).not.toThrow();
    expect(Number(readRecordBatchHeader(b).baseOffset)).toBe(i * 3);
  });
}

describe('recovery after a crash', () => {
  it('truncates a batch torn mid-write at the tail and logs it', async () => {
    const { dir, topic, sizes, pdir } = await crashedDir(5);
    const full = sizes.reduce((a, b) => a + b, 0);
    truncateSync(join(pdir, SEGMENT), full - 20);
    const logger = recordingLogger();
    const s = await start({ dataDir: dir, logger });
    await checkLog(s, topic, 4);
    expect(statSync(join(pdir, SEGMENT)).size).toBe(full - sizes[4]!);
    const warn = logger.lines.find((l) => l.msg?.includes('truncated'));
    expect(warn?.obj).toMatchObject({
      file: join(pdir, SEGMENT),
      position: full - sizes[4]!,
      bytesDropped: sizes[4]! - 20,
    });
    expect((await s.append(idOf(topic), 0, appendInput(makeBatch(2)))).baseOffset).toBe(12);
  });

  it('cuts the log at a batch whose bytes were damaged, dropping what follows', async () => {
    const { dir, topic, sizes, pdir } = await crashedDir(6);
    const file = join(pdir, SEGMENT);
    const data = readFileSync(file);
    const at = sizes[0]! + sizes[1]! + sizes[2]! + 70; // inside the records of batch 3
    data[at] = data[at]! ^ 0xff;
    writeFileSync(file, data);
    const logger = recordingLogger();
    const s = await start({ dataDir: dir, logger });
    await checkLog(s, topic, 3);
    expect(truncationReason(logger.lines)).toMatch(/CRC/);
  });

  it('drops a zero-filled tail', async () => {
    const { dir, topic, pdir } = await crashedDir(3);
    const file = join(pdir, SEGMENT);
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.alloc(4096)]));
    const logger = recordingLogger();
    const s = await start({ dataDir: dir, logger });
    await checkLog(s, topic, 3);
    expect(truncationReason(logger.lines)).toMatch(/impossible batch length 0/);
  });

  it('drops a partial batch header at the tail', async () => {
    const { dir, topic, pdir } = await crashedDir(2);
    const file = join(pdir, SEGMENT);
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from([0, 0, 0, 0, 0, 0, 0, 6, 0])]));
    const s = await start({ dataDir: dir });
    await checkLog(s, topic, 2);
  });

  it('rebuilds missing and stale indexes of sealed segments', async () => {
    const dir = tempDir();
    const opts = { dataDir: dir, segmentBytes: 800, indexIntervalBytes: 100, hotTailBytes: 0 };
    const s = await start(opts);
    const t = makeTopic('t');
    await s.createTopic(t);
    for (let i = 0; i < 12; i++) await s.append(idOf(t), 0, appendInput(makeBatch(3, 1_000 + i, 60)));
    await s.close();
    started.pop();
    const pdir = join(dir, 't-0');
    unlinkSync(join(pdir, '00000000000000000000.index'));
    const second = '00000000000000000012.index';
    truncateSync(join(pdir, second), statSync(join(pdir, second)).size - 8);
    const again = await start(opts);
    await checkLog(again, t, 12);
    for (let o = 0; o < 36; o++) {
      const r = await again.read(idOf(t), 0, { offset: o, maxBytes: 1, minOneBatch: true });
      expect(Number(readRecordBatchHeader(r.batches[0]!).baseOffset)).toBe(o - (o % 3));
    }
    expect(existsSync(join(pdir, '00000000000000000000.index'))).toBe(true);
  });

  it('deletes the segments after a corrupt one that is not the last, keeping the log contiguous', async () => {
    const dir = tempDir();
    const opts = { dataDir: dir, segmentBytes: 800 };
    const s = await start(opts);
    const t = makeTopic('t');
    await s.createTopic(t);
    for (let i = 0; i < 12; i++) await s.append(idOf(t), 0, appendInput(makeBatch(3, 1_000 + i, 60)));
    await s.close();
    started.pop();
    const pdir = join(dir, 't-0');
    const logs = readdirSync(pdir)
      .filter((n) => n.endsWith('.log'))
      .sort();
    expect(logs.length).toBeGreaterThan(3);
    // Cut the second segment inside its last batch: its index no longer matches its log.
    const second = join(pdir, logs[1]!);
    truncateSync(second, statSync(second).size - 10);
    const logger = recordingLogger();
    const again = await start({ ...opts, logger });
    const thirdBase = Number(logs[2]!.slice(0, 20));
    await checkLog(again, t, thirdBase / 3 - 1);
    for (const later of logs.slice(2)) expect(existsSync(join(pdir, later))).toBe(false);
    expect(logger.lines.some((l) => l.msg?.includes('after a corrupt one'))).toBe(true);
  });
});
