// FdWriter: order, partial writes, EAGAIN, the pending bound, failure, and chunks handed back.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '@trellis/time';
import { FdWriter } from './fd-writer.js';
import type { WriteFn } from './fd-writer.js';

type Callback = Parameters<WriteFn>[4];

/** A write function that records calls and lets the test answer them. */
function scriptedWrite() {
  const calls: { bytes: string; callback: Callback }[] = [];
  const write: WriteFn = (_fd, buffer, offset, length, callback) =>
    void calls.push({ bytes: buffer.toString('latin1', offset, offset + length), callback });
  return { write, calls };
}

const errno = (code: string) => Object.assign(new Error(code), { code });
const flushed = (writer: FdWriter) =>
  new Promise<Error | undefined>((resolve) => writer.flush((error) => resolve(error)));

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('FdWriter', () => {
  it('writes chunks to the file in order and hands each back once written', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fd-writer-'));
    const path = join(dir, 'out.log');
    const fd = openSync(path, 'w');
    const writer = new FdWriter({ fd, maxPendingBytes: 1 << 20 });
    const handedBack: string[] = [];
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.from(`line ${i}\n`));
    for (const chunk of chunks)
      expect(
        writer.write(chunk, (c, dropped) => handedBack.push(`${c}${dropped ? ' dropped' : ''}`)),
      ).toBe(true);
    expect(await flushed(writer)).toBeUndefined();
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe(chunks.join(''));
    expect(handedBack).toEqual(chunks.map(String));
  });

  it('continues a chunk the kernel took only part of', async () => {
    const writes: string[] = [];
    const write: WriteFn = (_fd, buffer, offset, length, callback) => {
      const n = Math.min(3, length);
      writes.push(buffer.toString('latin1', offset, offset + n));
      queueMicrotask(() => callback(null, n));
    };
    const writer = new FdWriter({ fd: 99, maxPendingBytes: 1 << 20, write });
    writer.write(Buffer.from('abcdefgh'));
    writer.write(Buffer.from('ij'));
    await flushed(writer);
    expect(writes).toEqual(['abc', 'def', 'gh', 'ij']);
  });

  it('retries a full non-blocking pipe (EAGAIN) after 10 ms', () => {
    const clock = new FakeClock();
    const { write, calls } = scriptedWrite();
    const writer = new FdWriter({ fd: 99, maxPendingBytes: 1 << 20, write, clock });
    writer.write(Buffer.from('abc'));
    calls[0]!.callback(errno('EAGAIN') as NodeJS.ErrnoException, 0);
    clock.advance(9);
    expect(calls).toHaveLength(1);
    clock.advance(1);
    expect(calls.map((c) => c.bytes)).toEqual(['abc', 'abc']);
  });

  it('drops what would take it past maxPendingBytes, handing it back at once as dropped', () => {
    const { write, calls } = scriptedWrite();
    const writer = new FdWriter({ fd: 99, maxPendingBytes: 10, write });
    const back: string[] = [];
    const done = (c: Buffer, dropped: boolean) =>
      back.push(`${c} ${dropped ? 'dropped' : 'written'}`);
    expect(writer.write(Buffer.from('123456'), done)).toBe(true);
    expect(writer.write(Buffer.from('7890x'), done)).toBe(false);
    expect(back).toEqual(['7890x dropped']);
    expect(writer.write(Buffer.from('7890'))).toBe(true);
    calls[0]!.callback(null, 6);
    expect(back).toEqual(['7890x dropped', '123456 written']);
    expect(calls.map((c) => c.bytes)).toEqual(['123456', '7890']);
  });

  it('stops for good on a write error: reports it once, drops the rest, flushes with it', async () => {
    const { write, calls } = scriptedWrite();
    const errors: Error[] = [];
    const writer = new FdWriter({
      fd: 99,
      maxPendingBytes: 1 << 20,
      write,
      onError: (error) => errors.push(error),
    });
    const back: string[] = [];
    const done = (c: Buffer, dropped: boolean) =>
      back.push(`${c} ${dropped ? 'dropped' : 'written'}`);
    writer.write(Buffer.from('a'), done);
    writer.write(Buffer.from('b'), done);
    const flush = flushed(writer);
    calls[0]!.callback(errno('EPIPE') as NodeJS.ErrnoException, 0);
    expect((await flush)?.message).toBe('EPIPE');
    expect(errors.map((e) => e.message)).toEqual(['EPIPE']);
    expect(back).toEqual(['a dropped', 'b dropped']);
    expect(writer.write(Buffer.from('c'), done)).toBe(false);
    expect(back).toEqual(['a dropped', 'b dropped', 'c dropped']);
    expect(calls).toHaveLength(1);
    expect((await flushed(writer))?.message).toBe('EPIPE');
  });

  it('hands an empty chunk straight back and flushes at once when idle', async () => {
    const { write, calls } = scriptedWrite();
    const writer = new FdWriter({ fd: 99, maxPendingBytes: 1 << 20, write });
    const back: boolean[] = [];
    writer.write(Buffer.alloc(0), (_c, dropped) => back.push(dropped));
    expect(back).toEqual([false]);
    expect(calls).toHaveLength(0);
    expect(await flushed(writer)).toBeUndefined();
  });
});
