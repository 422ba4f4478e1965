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
      expect(writer.write(chunk, (c) => handedBack.push(c.toString()))).toBe(true);
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

  it('drops (and counts) what would take it past maxPendingBytes, handing it back at once', () => {
    const { write, calls } = scriptedWrite();
    const writer = new FdWriter({ fd: 99, maxPendingBytes: 10, write });
    const back: string[] = [];
    expect(writer.write(Buffer.from('123456'), (c) => back.push(`${c}`))).toBe(true);
    expect(writer.write(Buffer.from('7890x'), (c) => back.push(`${c}`))).toBe(false);
    expect(back).toEqual(['7890x']);
    expect(writer.write(Buffer.from('7890'))).toBe(true);
    expect(writer.dropped).toEqual({ chunks: 1, bytes: 5 });
    calls[0]!.callback(null, 6);
    expect(back).toEqual(['7890x', '123456']);
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
    writer.write(Buffer.from('a'), (c) => back.push(`${c}`));
    writer.write(Buffer.from('b'), (c) => back.push(`${c}`));
    const flush = flushed(writer);
    calls[0]!.callback(errno('EPIPE') as NodeJS.ErrnoException, 0);
    expect((await flush)?.message).toBe('EPIPE');
    expect(errors.map((e) => e.message)).toEqual(['EPIPE']);
    expect(back).toEqual(['a', 'b']);
    expect(writer.write(Buffer.from('c'))).toBe(false);
    expect(writer.dropped).toEqual({ chunks: 3, bytes: 3 });
    expect(calls).toHaveLength(1);
    expect((await flushed(writer))?.message).toBe('EPIPE');
  });

  it('hands an empty chunk straight back and flushes at once when idle', async () => {
    const { write, calls } = scriptedWrite();
    const writer = new FdWriter({ fd: 99, maxPendingBytes: 1 << 20, write });
    const back: Buffer[] = [];
    writer.write(Buffer.alloc(0), (c) => back.push(c));
    expect(back).toHaveLength(1);
    expect(calls).toHaveLength(0);
    expect(await flushed(writer)).toBeUndefined();
  });
});
