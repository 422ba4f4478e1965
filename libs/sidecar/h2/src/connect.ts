// Opens an h2c (prior knowledge) connection: TCP connect, client preface, and the server's first
// SETTINGS, all within one connect timeout. Resolves with a session ready to open streams.
import { connect } from 'node:net';
import { systemClock } from '@trellis/time';
import { H2Error } from './errors.js';
import { H2Session } from './h2-session.js';
import type { H2SessionOptions } from './h2-session.js';

export interface H2ConnectOptions extends H2SessionOptions {
  readonly host: string;
  readonly port: number;
  /** Budget for TCP connect plus the server's SETTINGS. Default 10 s. */
  readonly connectTimeoutMs?: number;
}

/**
 * Connects and resolves once the server's SETTINGS arrived. Rejects with a retriable H2Error:
 * TRL_H2_CONNECT_TIMEOUT, or TRL_H2_CONNECT_FAILED (refused, reset, not an h2c server).
 */
export function connectH2c(options: H2ConnectOptions): Promise<H2Session> {
  const { host, port } = options;
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  return new Promise<H2Session>((resolve, reject) => {
    const socket = connect({ host, port });
    let session: H2Session | null = null;
    let settled = false;

    const fail = (error: H2Error): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      if (session !== null) session.destroy(error);
      else socket.destroy();
      reject(error);
    };
    const timer = clock.setTimer(timeoutMs, () =>
      fail(
        new H2Error(
          'TRL_H2_CONNECT_TIMEOUT',
          `h2c connect to ${host}:${port} took more than ${timeoutMs} ms`,
          { retriable: true },
        ),
      ),
    );
    const connectFailed = (cause: unknown): H2Error =>
      new H2Error('TRL_H2_CONNECT_FAILED', `h2c connect to ${host}:${port} failed`, {
        retriable: true,
        cause,
      });
    const onError = (err: Error): void => fail(connectFailed(err));

    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      if (settled) return;
      const s = new H2Session(socket, options);
      session = s;
      s.ready.then(
        () => {
          if (settled) return;
          settled = true;
          timer.cancel();
          resolve(s);
        },
        (err: unknown) => fail(connectFailed(err)),
      );
    });
  });
}
