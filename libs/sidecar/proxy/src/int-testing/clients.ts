// Clients for the integration tests: curl and nghttp as child processes with hard time bounds,
// a raw TCP socket that writes exact bytes (for malformed input), and Node's http client.
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import type { Agent, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import type { ClientHttp2Session, IncomingHttpHeaders as Http2Headers } from 'node:http2';
import { connect } from 'node:net';

export interface ToolResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Runs a command, feeding `input` on stdin; killed (SIGKILL) after `timeoutMs`. */
export function runTool(
  command: string,
  args: readonly string[],
  options: { input?: Buffer; timeoutMs?: number } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 10_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString(),
        timedOut,
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}

export interface CurlResponse {
  /** Status lines of interim (1xx) responses, in order. */
  readonly interim: number[];
  readonly httpVersion: string;
  readonly status: number;
  /** Lower-case names. Repeated fields joined with ", ". */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly exitCode: number | null;
  readonly stderr: string;
}

/**
 * `curl -sS -i <args>`: the response heads are parsed from the output; interim 1xx heads are
 * listed apart. Fails the test on a curl timeout rather than hanging.
 */
export async function curl(
  args: readonly string[],
  options: { input?: Buffer; timeoutMs?: number } = {},
): Promise<CurlResponse> {
  const result = await runTool('curl', ['-sS', '-i', '--max-time', '10', ...args], {
    timeoutMs: options.timeoutMs ?? 15_000,
    input: options.input,
  });
  if (result.timedOut) throw new Error(`curl timed out: ${args.join(' ')}`);
  let rest = result.stdout;
  const interim: number[] = [];
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0)
      return {
        interim,
        httpVersion: '',
        status: 0,
        headers: {},
        body: rest,
        exitCode: result.code,
        stderr: result.stderr,
      };
    const lines = rest.subarray(0, end).toString('latin1').split('\r\n');
    rest = rest.subarray(end + 4);
    const [version = '', statusText = '0'] = (lines[0] ?? '').split(' ');
    const status = Number(statusText);
    if (status >= 100 && status < 200) {
      interim.push(status);
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    return {
      interim,
      httpVersion: version,
      status,
      headers,
      body: rest,
      exitCode: result.code,
      stderr: result.stderr,
    };
  }
}

export interface RawResult {
  /** Everything the server sent, latin1. */
  readonly text: string;
  /** The server closed the connection (rather than the client giving up at the time bound). */
  readonly closedByServer: boolean;
}

/**
 * Opens a TCP connection, writes `parts` (each in its own write, `gapMs` apart when given), and
 * reads until the server closes or `idleMs` pass without a byte (then the client closes).
 */
export function rawExchange(
  port: number,
  parts: readonly (string | Buffer)[],
  options: { idleMs?: number; gapMs?: number } = {},
): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let closedByServer = true;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        closedByServer = false;
        socket.destroy();
      }, options.idleMs ?? 1_000);
    };
    const write = (i: number) => {
      const part = parts[i];
      if (part === undefined || socket.destroyed) return;
      socket.write(typeof part === 'string' ? Buffer.from(part, 'latin1') : part);
      arm();
      if (options.gapMs) setTimeout(() => write(i + 1), options.gapMs);
      else write(i + 1);
    };
    socket.on('connect', () => write(0));
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      arm();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer });
    });
  });
}

/** HTTP/1.1 status codes found at the start of responses in `text`, in order. */
export function statusLines(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}

export interface NodeResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly trailers: NodeJS.Dict<string>;
  /** The client side port of the connection used: equal ports mean a reused connection. */
  readonly localPort: number;
}

/** One request with Node's client; `agent` for keep-alive tests, else a fresh connection. */
export function nodeRequest(
  port: number,
  init: {
    method?: string;
    path?: string;
    headers?: OutgoingHttpHeaders;
    body?: Buffer | string;
    agent?: Agent;
    timeoutMs?: number;
  } = {},
): Promise<NodeResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: init.method ?? 'GET',
        path: init.path ?? '/',
        headers: init.headers,
        agent: init.agent ?? false,
      },
      (res) => {
        const localPort = res.socket.localPort ?? 0;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            trailers: res.trailers,
            localPort,
          }),
        );
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('response aborted')));
      },
    );
    req.setTimeout(init.timeoutMs ?? 10_000, () =>
      req.destroy(new Error('client request timed out')),
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

export interface H2Response {
  readonly status: number;
  readonly headers: Http2Headers;
  readonly body: Buffer;
  readonly trailers: Http2Headers | undefined;
  /** RST_STREAM code when the stream was reset, else 0. */
  readonly rstCode: number;
}

/** One stream on `session` (Node's http2 client); resolves when the stream closes. */
export function h2Request(
  session: ClientHttp2Session,
  init: {
    method?: string;
    path?: string;
    authority: string;
    headers?: Record<string, string>;
    body?: Buffer;
    trailers?: Record<string, string>;
  },
): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const hasBody = init.body !== undefined || init.trailers !== undefined;
    const stream = session.request(
      {
        ':method': init.method ?? (hasBody ? 'POST' : 'GET'),
        ':path': init.path ?? '/',
        ':authority': init.authority,
        ...init.headers,
      },
      { endStream: !hasBody, waitForTrailers: init.trailers !== undefined },
    );
    let status = 0;
    let headers: Http2Headers = {};
    let trailers: Http2Headers | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      headers = h;
      status = Number(h[':status']);
    });
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('wantTrailers', () => stream.sendTrailers(init.trailers ?? {}));
    stream.on('error', () => undefined);
    stream.on('close', () => {
      if (status === 0 && stream.rstCode === 0) reject(new Error('stream closed without response'));
      else
        resolve({
          status,
          headers,
          body: Buffer.concat(chunks),
          trailers,
          rstCode: stream.rstCode,
        });
    });
    if (hasBody) stream.end(init.body);
  });
}

/** An h2c (prior knowledge) client session to the gateway; close it with `session.close()`. */
export function h2Connect(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`http://127.0.0.1:${port}`);
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}
