import { describe, expect, it } from 'vitest';
import {
  CONN_CLOSE,
  CONN_KEEP_ALIVE,
  CONN_UPGRADE,
  TARGET,
  TOKEN,
  connectionFlags,
  isFieldValue,
  lowerCaseEquals,
  stringMatches,
  transferCodings,
} from './http-syntax.js';

describe('http-syntax', () => {
  it('accepts exactly the tchar set as token bytes', () => {
    const accepted = [];
    for (let b = 0; b < 256; b++) if (TOKEN[b] === 1) accepted.push(String.fromCharCode(b));
    expect(accepted.join('')).toBe(
      "!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz|~",
    );
  });

  it('matches tokens and request targets, never an empty string', () => {
    expect(stringMatches('X-Req-Id', TOKEN)).toBe(true);
    expect(stringMatches('X Req', TOKEN)).toBe(false);
    expect(stringMatches('', TOKEN)).toBe(false);
    expect(stringMatches('/a?b=%20&c', TARGET)).toBe(true);
    expect(stringMatches('/a\tb', TARGET)).toBe(false);
  });

  it('accepts field values with SP, HTAB and obs-text, rejects controls and wide chars', () => {
    expect(isFieldValue('')).toBe(true);
    expect(isFieldValue('a b\tc \xff')).toBe(true);
    expect(isFieldValue('a\rb')).toBe(false);
    expect(isFieldValue('a\nb')).toBe(false);
    expect(isFieldValue('a\x7f')).toBe(false);
    expect(isFieldValue('\u0100')).toBe(false);
  });

  it('reads Connection options case-insensitively from a list', () => {
    expect(connectionFlags('Keep-Alive')).toBe(CONN_KEEP_ALIVE);
    expect(connectionFlags('close')).toBe(CONN_CLOSE);
    expect(connectionFlags(' Upgrade , CLOSE,x-custom')).toBe(CONN_UPGRADE | CONN_CLOSE);
    expect(connectionFlags('closed, keep-alives')).toBe(0);
  });

  it('lists Transfer-Encoding codings lower-cased without empty elements', () => {
    const into: string[] = [];
    transferCodings('gzip, , Chunked', into);
    transferCodings('chunked', into);
    expect(into).toEqual(['gzip', 'chunked', 'chunked']);
  });

  it('compares a Latin-1 string with a lower-case literal as toLowerCase would', () => {
    const literal = 'content-length';
    const same = ['content-length', 'Content-Length', 'CONTENT-LENGTH', 'content-lengtH'];
    for (const text of same) expect(lowerCaseEquals(text, literal)).toBe(true);
    for (const text of ['content-lengt', 'content-lengths', 'content_length', 'Content-Lengt`'])
      expect(lowerCaseEquals(text, literal)).toBe(false);
    // Every Latin-1 char in place of a letter, and in place of the `-`.
    for (let b = 0; b < 256; b++) {
      const c = String.fromCharCode(b);
      for (const text of [`${c}eep-alive`, `keep${c}alive`])
        expect(lowerCaseEquals(text, 'keep-alive')).toBe(text.toLowerCase() === 'keep-alive');
    }
  });

  it('reads the single usual Connection option in any case', () => {
    expect(connectionFlags('Keep-Alive')).toBe(CONN_KEEP_ALIVE);
    expect(connectionFlags('CLOSE')).toBe(CONN_CLOSE);
  });
});
