// A real Prometheus (Debian's `prometheus` package) scrapes the built gateway's admin /metrics
// while the gateway serves a known load; its query API must then return exactly the counts that
// load produced, with labels bounded by the config (route, destination, status class) and never
// by request path.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePorts, waitFor } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './run.js';

const JOB = 'trellis-sidecar';
const SELECTOR = `{job="${JOB}"}`;
const HOST = 'www.example.com';
const OK_REQUESTS = 250;
const FAILED_REQUESTS = 50;
const TOTAL_REQUESTS = OK_REQUESTS + FAILED_REQUESTS;
/** 49 paths answered 200 plus the one answered 503: 50 distinct paths in the load. */
const OK_PATHS = 49;
const FAIL_PATH = '/fail';
const CLIENTS = 4;
const REQUEST_TIMEOUT_MS = 5_000;
/** Upper bounds of the duration histogram plus +Inf (metric-table.ts DURATION_BUCKETS_SECONDS). */
const HISTOGRAM_BUCKETS = 18;
const SITE = { route: 'route/site.default', destination: 'shop.default:80' };
const FAIL = { route: 'route/fail.default', destination: 'flaky.default:80' };

/** Every 6th request goes to the failing path: 50 of 300, spread over the whole run. */
const plan: readonly string[] = (() => {
  let ok = 0;
  return Array.from({ length: TOTAL_REQUESTS }, (_, i) =>
    i % 6 === 5 ? FAIL_PATH : `/items/${ok++ % OK_PATHS}`,
  );
})();

const mesh = (upstreamPort: number) => `
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: shop}
spec: {ports: [{port: 80}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: flaky}
spec: {ports: [{port: 80}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Endpoints
metadata: {name: shop}
spec: {service: shop, endpoints: [{address: 127.0.0.1, port: ${upstreamPort}}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Endpoints
metadata: {name: flaky}
spec: {service: flaky, endpoints: [{address: 127.0.0.1, port: ${upstreamPort}}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: fail}
spec:
  hosts: [${HOST}]
  match: {path: {exact: ${FAIL_PATH}}}
  destinations: [{service: flaky}]
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: site}
spec:
  hosts: [${HOST}]
  destinations: [{service: shop}]
`;

const prometheusConfig = (adminPort: number) => `
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: ${JOB}
    metrics_path: /metrics
    static_configs: [{targets: ['127.0.0.1:${adminPort}']}]
`;

const LOG_TAIL_CHARS = 16_000;

interface StartOptions {
  readonly readyUrl: string;
  readonly timeoutMs: number;
  /** Said when the command cannot be run at all (how to install it). */
  readonly installHint?: string;
}

/**
 * Spawns `command` and resolves once `readyUrl` answers 2xx; rejects at once if the command
 * cannot be run or exits first, and after `timeoutMs` otherwise, with the tail of its output.
 */
async function start(
  what: string,
  command: string,
  args: readonly string[],
  { readyUrl, timeoutMs, installHint }: StartOptions,
): Promise<ChildProcess> {
  const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-LOG_TAIL_CHARS));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new Error(`cannot run ${command}: ${error.message}${installHint ?? ''}`)),
    );
    child.once('exit', (code, signal) =>
      reject(new Error(`${what} exited early (${code ?? signal})`)),
    );
  });
  const gaveUp = new AbortController();
  const ready = waitFor(
    async () => (await fetch(readyUrl, { signal: AbortSignal.timeout(1_000) })).ok,
    { timeoutMs, intervalMs: 100, what: `${what} at ${readyUrl}`, signal: gaveUp.signal },
  );
  try {
    await Promise.race([ready, failed]);
  } catch (error) {
    gaveUp.abort();
    await stop(child);
    throw new Error(`${(error as Error).message}\n--- ${what} output (tail) ---\n${output}`);
  }
  return child;
}

/** SIGKILLs the process (if still running) and waits, bounded, until it is gone. */
async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
    return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
}

interface Sample {
  readonly metric: Record<string, string>;
  readonly value: readonly [number, string];
}

/** One series of an instant query: its labels and its value as a number. */
type Row = Record<string, string | number>;

describe('a real Prometheus scraping the built gateway under load', () => {
  let dir: string;
  let upstream: Server;
  let sidecar: ChildProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let gateway: string;
  let admin: string;
  let adminTarget: string;
  let promApi: string;
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const statuses = new Map<number, number>();

  /** GETs `path` through the gateway (node:http: fetch() cannot set Host) and returns the status. */
  const get = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(`${gateway}${path}`, { headers: { host: HOST }, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () =>
        req.destroy(new Error(`GET ${path} timed out after ${REQUEST_TIMEOUT_MS} ms`)),
      );
      req.on('error', reject);
      req.end();
    });

  /** The plan, sent by CLIENTS keep-alive clients that each take the next request in turn. */
  const sendLoad = async (): Promise<void> => {
    let next = 0;
    const client = async (): Promise<void> => {
      while (next < plan.length) {
        const path = plan[next++]!;
        const status = await get(path);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
  };

  const query = async (expr: string): Promise<Sample[]> => {
    const url = `${promApi}/api/v1/query?query=${encodeURIComponent(expr)}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as {
      status: string;
      data?: { resultType: string; result: Sample[] };
    };
    if (body.status !== 'success' || body.data?.resultType !== 'vector')
      throw new Error(`query ${expr} failed: ${JSON.stringify(body)}`);
    return body.data.result;
  };

  /** The query's series as label rows with a numeric `value`, in a stable order. */
  const rows = async (expr: string): Promise<Row[]> =>
    (await query(expr))
      .map((s): Row => ({ ...s.metric, value: Number(s.value[1]) }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

  const scalar = async (expr: string): Promise<number | undefined> => {
    const result = await query(expr);
    return result.length === 1 ? Number(result[0]!.value[1]) : undefined;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-e2e-prometheus-'));
    upstream = createServer((req, res) => {
      res.statusCode = req.url === FAIL_PATH ? 503 : 200;
      res.end(`upstream ${req.url}`);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const [listenPort, adminPort, promPort] = await getFreePorts(3);
    gateway = `http://127.0.0.1:${listenPort}`;
    adminTarget = `127.0.0.1:${adminPort}`;
    admin = `http://${adminTarget}`;
    promApi = `http://127.0.0.1:${promPort}`;

    const meshFile = join(dir, 'mesh.yaml');
    await writeFile(meshFile, mesh((upstream.address() as AddressInfo).port));
    sidecar = await start(
      'trellis-sidecar',
      process.execPath,
      [
        'dist/apps/sidecar/main.js',
        '--role',
        'gateway',
        '--config',
        meshFile,
        '--listen',
        `127.0.0.1:${listenPort}`,
        '--admin',
        adminTarget,
      ],
      { readyUrl: `${admin}/ready`, timeoutMs: 10_000 },
    );

    const promFile = join(dir, 'prometheus.yml');
    await writeFile(promFile, prometheusConfig(adminPort!));
    prometheus = await start(
      'prometheus',
      process.env['PROMETHEUS_BIN'] ?? 'prometheus',
      [
        `--config.file=${promFile}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      {
        readyUrl: `${promApi}/-/ready`,
        timeoutMs: 20_000,
        installHint:
          "; install Debian's prometheus package (scripts/ensure-deps.sh --system) or set PROMETHEUS_BIN",
      },
    );

    await sendLoad();
    // Counter and histogram move together on each finished request, so the scrape that shows
    // all 300 requests in the counter shows them in the histogram too.
    const total = `sum(trellis_requests_total${SELECTOR})`;
    try {
      await waitFor(async () => (await scalar(total)) === TOTAL_REQUESTS, {
        timeoutMs: 20_000,
        intervalMs: 250,
        what: `${total} to reach ${TOTAL_REQUESTS}`,
      });
    } catch (error) {
      // Why a scrape failed (refused, bad exposition, timeout) is only in the target's health.
      const targets = await fetch(`${promApi}/api/v1/targets`).then((r) => r.text());
      throw new Error(
        `${(error as Error).message}; ${total} = ${await scalar(total)}; targets: ${targets}`,
      );
    }
  }, 60_000);

  afterAll(async () => {
    agent.destroy();
    await Promise.all([stop(prometheus), stop(sidecar)]);
    upstream?.closeAllConnections();
    upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('served the bounded load: 250 × 200 and 50 × 503 over 50 distinct paths', () => {
    expect(Object.fromEntries(statuses)).toEqual({ 200: OK_REQUESTS, 503: FAILED_REQUESTS });
    expect(new Set(plan).size).toBe(OK_PATHS + 1);
  });

  it('scrapes the sidecar target: up is 1', async () => {
    expect(await rows(`up${SELECTOR}`)).toEqual([
      { __name__: 'up', instance: adminTarget, job: JOB, value: 1 },
    ]);
  });

  it('counts requests exactly, by route, destination and status class', async () => {
    expect(await rows(`trellis_requests_total${SELECTOR}`)).toEqual([
      {
        __name__: 'trellis_requests_total',
        code_class: '2xx',
        ...SITE,
        direction: 'gateway',
        instance: adminTarget,
        job: JOB,
        value: OK_REQUESTS,
      },
      {
        __name__: 'trellis_requests_total',
        code_class: '5xx',
        ...FAIL,
        direction: 'gateway',
        instance: adminTarget,
        job: JOB,
        value: FAILED_REQUESTS,
      },
    ]);
    expect(await rows(`sum by (code_class) (trellis_requests_total${SELECTOR})`)).toEqual([
      { code_class: '2xx', value: OK_REQUESTS },
      { code_class: '5xx', value: FAILED_REQUESTS },
    ]);
  });

  it("records every request's latency: the histogram count per route equals the requests", async () => {
    expect(
      await rows(`sum by (route, destination) (trellis_request_duration_seconds_count${SELECTOR})`),
    ).toEqual([
      { ...FAIL, value: FAILED_REQUESTS },
      { ...SITE, value: OK_REQUESTS },
    ]);
    expect(await scalar(`sum(trellis_request_duration_seconds_count${SELECTOR})`)).toBe(
      TOTAL_REQUESTS,
    );
    expect(
      await scalar(`sum(trellis_request_duration_seconds_bucket{job="${JOB}",le="+Inf"})`),
    ).toBe(TOTAL_REQUESTS);
  });

  it('gives a finite, positive p99 latency from the histogram buckets', async () => {
    // Over the cumulative buckets, not rate(): the whole load can land within one scrape
    // interval, and a rate over two equal samples is 0 everywhere, which yields NaN.
    const p99 = await scalar(
      `histogram_quantile(0.99, sum by (le) (trellis_request_duration_seconds_bucket${SELECTOR}))`,
    );
    expect(Number.isFinite(p99)).toBe(true);
    expect(p99).toBeGreaterThan(0);
    const perRoute = await rows(
      `histogram_quantile(0.99, sum by (le, route) (trellis_request_duration_seconds_bucket${SELECTOR}))`,
    );
    expect(perRoute.map((r) => r['route'])).toEqual([FAIL.route, SITE.route]);
    for (const row of perRoute) {
      expect(Number.isFinite(row['value'])).toBe(true);
      expect(row['value']).toBeGreaterThan(0);
    }
  });

  it('exports the config in force: version 1 and the hash the admin endpoint reports', async () => {
    const config = (await (await fetch(`${admin}/config`)).json()) as { hash: string };
    expect(await rows(`trellis_config_version${SELECTOR}`)).toEqual([
      { __name__: 'trellis_config_version', instance: adminTarget, job: JOB, value: 1 },
    ]);
    expect(await rows(`trellis_config_info${SELECTOR}`)).toEqual([
      {
        __name__: 'trellis_config_info',
        hash: config.hash,
        instance: adminTarget,
        job: JOB,
        value: 1,
      },
    ]);
  });

  it('keeps the series count bounded: 50 request paths add no series and no label values', async () => {
    // One series per route × status class (and per route for the histogram), whatever the paths.
    expect(
      await rows(
        `count by (__name__) ({job="${JOB}",__name__=~"trellis_request(s_total|_duration_seconds_.*)"})`,
      ),
    ).toEqual([
      { __name__: 'trellis_request_duration_seconds_bucket', value: 2 * HISTOGRAM_BUCKETS },
      { __name__: 'trellis_request_duration_seconds_count', value: 2 },
      { __name__: 'trellis_request_duration_seconds_sum', value: 2 },
      { __name__: 'trellis_requests_total', value: 2 },
    ]);
    const res = await fetch(`${promApi}/api/v1/series?match[]=${encodeURIComponent(SELECTOR)}`, {
      signal: AbortSignal.timeout(5_000),
    });
    const series = ((await res.json()) as { data: Record<string, string>[] }).data;
    const labelValues = new Set(series.flatMap((labels) => Object.values(labels)));
    expect(labelValues).toContain(SITE.route);
    expect([...new Set(plan)].filter((path) => labelValues.has(path))).toEqual([]);
    expect([...labelValues].filter((value) => value.includes('/items/'))).toEqual([]);
  });
});
