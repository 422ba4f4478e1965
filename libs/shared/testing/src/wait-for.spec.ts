import { describe, expect, it } from 'vitest';
import { FakeClock } from '@trellis/time';
import { TestingError } from './errors.js';
import { waitFor } from './wait-for.js';

/** Lets pending promise callbacks (the probe's await) run; not a sleep. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('waitFor', () => {
  it('resolves with the first value that is not undefined, null or false', async () => {
    const clock = new FakeClock();
    const answers: (string | false | null | undefined)[] = [false, null, undefined, 'ready'];
    const result = waitFor(() => answers.shift(), {
      timeoutMs: 1000,
      intervalMs: 10,
      what: 'x',
      clock,
    });
    for (let i = 0; i < 3; i++) {
      await settle();
      clock.advance(10);
    }
    await expect(result).resolves.toBe('ready');
    expect(clock.pendingTimers).toBe(0);
  });

  it('resolves with 0 and empty string, which are values, not "not yet"', async () => {
    const clock = new FakeClock();
    await expect(waitFor(() => 0, { timeoutMs: 10, what: 'x', clock })).resolves.toBe(0);
    await expect(waitFor(() => '', { timeoutMs: 10, what: 'x', clock })).resolves.toBe('');
  });

  it('probes once per interval until the deadline, then rejects with TRL_TESTING_WAIT_TIMEOUT', async () => {
    const clock = new FakeClock();
    let probes = 0;
    const result = waitFor(
      () => {
        probes++;
        return false;
      },
      { timeoutMs: 35, intervalMs: 10, what: 'the moon', clock },
    );
    const outcome = result.catch((err: unknown) => err);
    for (let i = 0; i < 4; i++) {
      await settle();
      clock.advance(10);
    }
    const err = await outcome;
    expect(err).toBeInstanceOf(TestingError);
    expect(err).toMatchObject({
      code: 'TRL_TESTING_WAIT_TIMEOUT',
      message: 'timed out after 35 ms waiting for the moon',
    });
    expect(probes).toBe(4); // at 0, 10, 20 and 30 ms
    expect(clock.pendingTimers).toBe(0);
  });

  it('reports the last probe error as the cause of the timeout', async () => {
    const clock = new FakeClock();
    let n = 0;
    const outcome = waitFor(
      () => {
        throw new Error(`refused ${++n}`);
      },
      { timeoutMs: 15, intervalMs: 10, what: 'port 1', clock },
    ).catch((err: unknown) => err);
    await settle();
    clock.advance(10);
    await settle();
    clock.advance(5);
    const err = (await outcome) as TestingError;
    expect(err.message).toBe('timed out after 15 ms waiting for port 1 (last error: refused 2)');
    expect((err.cause as Error).message).toBe('refused 2');
  });

  it('times out while a probe is still hanging', async () => {
    const clock = new FakeClock();
    const outcome = waitFor(() => new Promise<boolean>(() => undefined), {
      timeoutMs: 100,
      what: 'a hung probe',
      clock,
    }).catch((err: unknown) => err);
    await settle();
    clock.advance(100);
    expect(await outcome).toMatchObject({ code: 'TRL_TESTING_WAIT_TIMEOUT' });
  });

  it('rejects with the abort reason and stops probing when the signal aborts', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    let probes = 0;
    const outcome = waitFor(
      () => {
        probes++;
        return false;
      },
      { timeoutMs: 1000, intervalMs: 10, what: 'x', clock, signal: controller.signal },
    ).catch((err: unknown) => err);
    await settle();
    const reason = new Error('process exited');
    controller.abort(reason);
    expect(await outcome).toBe(reason);
    clock.advance(100);
    await settle();
    expect(probes).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const reason = new Error('gone');
    await expect(
      waitFor(() => true, {
        timeoutMs: 10,
        what: 'x',
        clock: new FakeClock(),
        signal: AbortSignal.abort(reason),
      }),
    ).rejects.toBe(reason);
  });

  it('refuses a negative timeout with TRL_TESTING_INVALID_OPTION', () => {
    expect(() => waitFor(() => true, { timeoutMs: -1, what: 'x' })).toThrow(
      expect.objectContaining({ code: 'TRL_TESTING_INVALID_OPTION' }),
    );
  });
});
