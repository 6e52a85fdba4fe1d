import { describe, expect, it } from 'vitest';
import { defaultBrokerConfig } from './config.js';
import { resolveLogConfig } from './log-config.js';

describe('resolveLogConfig', () => {
  it('fills every setting from the broker defaults, unbounded longs as MAX_SAFE_INTEGER', () => {
    const config = defaultBrokerConfig({ logRetentionMs: 5_000, logSegmentBytes: 1_000_000 });
    expect(resolveLogConfig({}, config)).toEqual({
      deleteEnabled: true,
      compactEnabled: false,
      segmentBytes: 1_000_000,
      segmentMs: 604_800_000,
      retentionMs: 5_000,
      retentionBytes: config.logRetentionBytes,
      deleteRetentionMs: 86_400_000,
      minCleanableDirtyRatio: 0.5,
      minCompactionLagMs: 0,
      maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
      flushMessages: Number.MAX_SAFE_INTEGER,
      flushMs: Number.MAX_SAFE_INTEGER,
      indexIntervalBytes: 4096,
      maxMessageBytes: config.messageMaxBytes,
    });
  });

  it('applies the topic overrides', () => {
    const resolved = resolveLogConfig(
      {
        'cleanup.policy': 'compact, delete',
        'segment.bytes': '2048',
        'retention.ms': '-1',
        'min.cleanable.dirty.ratio': '0.25',
        'flush.ms': '100',
      },
      defaultBrokerConfig(),
    );
    expect(resolved).toMatchObject({
      deleteEnabled: true,
      compactEnabled: true,
      segmentBytes: 2048,
      retentionMs: -1,
      minCleanableDirtyRatio: 0.25,
      flushMs: 100,
    });
    expect(resolveLogConfig({ 'cleanup.policy': 'compact' }, defaultBrokerConfig())).toMatchObject({
      deleteEnabled: false,
      compactEnabled: true,
    });
  });
});
