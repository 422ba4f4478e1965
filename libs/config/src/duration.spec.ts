import { describe, expect, it } from 'vitest';
import { isDuration, parseDuration } from './duration.js';
import { ConfigError } from './errors.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004],
    ['0s', 0],
    ['1.1s', 1100],
    ['1.5ms', 1.5],
    ['0.25h', 900_000],
  ])('parses %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'fast', '10', 's', '1.s', '.5s', '-1s', '1 s', '1d', '1S', '5us', '1s '])(
    'rejects %j with a TRL_CFG_DURATION ConfigError',
    (text) => {
      expect(() => parseDuration(text)).toThrow(ConfigError);
      try {
        parseDuration(text);
      } catch (error) {
        expect((error as ConfigError).code).toBe('TRL_CFG_DURATION');
        expect((error as ConfigError).message).toBe(
          `must be a duration like 250ms, 1.5s or 2m (got ${JSON.stringify(text)})`,
        );
      }
    },
  );
});

describe('isDuration', () => {
  it('accepts a multi-term duration', () => {
    expect(isDuration('1m30s')).toBe(true);
  });

  it('rejects a bare number', () => {
    expect(isDuration('30')).toBe(false);
  });
});
