import { describe, expect, it } from 'vitest';
import { loadOptionalNative } from './native-module.js';

describe('loadOptionalNative', () => {
  it('returns undefined for a package that is not installed', () => {
    expect(loadOptionalNative('@tributary/no-such-addon', () => {})).toBeUndefined();
  });

  it('returns undefined when the probe call fails, as a broken addon build would', () => {
    expect(
      loadOptionalNative<object>('node:zlib', () => {
        throw new Error('broken');
      }),
    ).toBeUndefined();
  });

  it.skipIf(process.env.TRIBUTARY_NATIVE === '0')(
    'returns the module when it loads and the probe passes',
    () => {
      expect(loadOptionalNative<{ gzipSync: unknown }>('node:zlib', () => {})?.gzipSync).toBeTypeOf(
        'function',
      );
    },
  );
});
