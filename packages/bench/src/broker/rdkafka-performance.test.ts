import { describe, expect, it } from 'vitest';
import { parseSummary } from './rdkafka-performance.js';

describe('parseSummary', () => {
  it('reads the producer summary, counting delivered messages', () => {
    const out = [
      '% Sending 1000000 messages of size 100 bytes',
      '% 72 backpressures for 1000000 produce calls: 0.007% backpressure rate',
      '% 1000000 messages produced (100000000 bytes), 999990 delivered (offset 999999, 10 failed) in 1730ms: 577853 msgs/s and 57.79 MB/s, 72 produce failures, 0 in queue, no compression',
    ].join('\n');
    expect(parseSummary(out)).toEqual({
      mode: 'produce',
      messages: 999_990,
      bytes: 99_999_000,
      elapsedMs: 1730,
      msgsPerSec: 577_853,
      mbPerSec: 57.79,
      failed: 10,
    });
  });

  it('reads the consumer summary and takes the last one printed', () => {
    const out = [
      '% 0 messages (0 bytes) consumed in 0ms: 0 msgs/s (0.00 MB/s)',
      '% 300000 messages (30000000 bytes) consumed in 612ms: 490171 msgs/s (49.02 MB/s)',
      '% Average application fetch latency: 1us',
    ].join('\n');
    expect(parseSummary(out)).toMatchObject({
      mode: 'consume',
      messages: 300_000,
      bytes: 30_000_000,
      elapsedMs: 612,
      msgsPerSec: 490_171,
      mbPerSec: 49.02,
    });
  });

  it('reads a consumer summary with latency figures appended', () => {
    const out =
      '% 5000 messages (500000 bytes) consumed in 4999ms: 1000 msgs/s (0.10 MB/s), latency curr/avg/lo/hi 0.31/0.40/0.12/9.80ms';
    expect(parseSummary(out)).toMatchObject({ mode: 'consume', messages: 5000, msgsPerSec: 1000 });
  });

  it('is null when the tool printed no summary', () => {
    expect(parseSummary('%3|FAIL|rdkafka#producer-1| Connect to ipv4#127.0.0.1:1 failed')).toBeNull();
  });
});
