// Runs the demo mesh in the foreground: a NATS server with authentication, the control plane
// on the folder source examples/shop, an edge gateway and sidecars fed by it over NATS, and the
// shop's services. Waits until each is ready, prints where to look, and on Ctrl-C (or SIGTERM)
// stops everything it started — each child runs in its own process group, so nothing survives.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CONTROL_PLANE_NATS_USER,
  sidecarNatsUser,
  trellisNatsLimits,
  trellisNatsUsers,
} from '@trellis/control-plane-delivery';
import type { SidecarNatsCredentials } from '@trellis/control-plane-delivery';
import { startNatsServer } from '@trellis/testing';
import type { NatsServerHandle } from '@trellis/testing';

const root = new URL('..', import.meta.url).pathname;
const stateDir = `${root}.demo`;
mkdirSync(stateDir, { recursive: true });

const ports = {
  nats: 14222,
  controlPlaneApi: 15080,
  gateway: 18080,
  gatewayAdmin: 15100,
  frontendOut: 15001,
  frontendAdmin: 15101,
  catalogOut: 15002,
  catalogAdmin: 15102,
};

interface ProcessSpec {
  readonly name: string;
  /** The executable, from the repository root. */
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  readonly ready: string;
}

const NAMESPACE = 'shop';
const newPassword = () => randomBytes(18).toString('base64url');
const controlPlanePassword = newPassword();
/** One NATS user per sidecar pod, each with its own password: see sidecar(). */
const sidecarUsers: SidecarNatsCredentials[] = [];
const natsUrl = `nats://127.0.0.1:${ports.nats}`;

function sidecar(
  pod: string,
  service: string,
  adminPort: number,
  args: readonly string[],
): ProcessSpec {
  const password = newPassword();
  sidecarUsers.push({ namespace: NAMESPACE, pod, password });
  return {
    name: pod,
    // The launcher, as a pod runs it: it sets the sidecar's memory settings.
    command: 'apps/sidecar/bin/trellis-sidecar',
    args: [
      '--namespace',
      NAMESPACE,
      '--pod',
      pod,
      '--service',
      service,
      '--state-file',
      `${stateDir}/${pod}.json`,
      '--admin',
      `127.0.0.1:${adminPort}`,
      ...args,
    ],
    env: {
      TRELLIS_NATS_URL: natsUrl,
      TRELLIS_NATS_USER: sidecarNatsUser(NAMESPACE, pod),
      TRELLIS_NATS_PASSWORD: password,
    },
    ready: `http://127.0.0.1:${adminPort}/ready`,
  };
}

const processes: ProcessSpec[] = [
  {
    name: 'control-plane',
    command: process.execPath,
    args: [
      'dist/apps/control-plane/main.js',
      '--source',
      'examples/shop',
      '--api',
      `127.0.0.1:${ports.controlPlaneApi}`,
      '--replica-id',
      'demo-1',
    ],
    env: {
      TRELLIS_NATS_URL: natsUrl,
      TRELLIS_NATS_USER: CONTROL_PLANE_NATS_USER,
      TRELLIS_NATS_PASSWORD: controlPlanePassword,
    },
    ready: `http://127.0.0.1:${ports.controlPlaneApi}/readyz`,
  },
  sidecar('gateway', '', ports.gatewayAdmin, [
    '--role',
    'gateway',
    '--listen',
    `127.0.0.1:${ports.gateway}`,
  ]),
  sidecar('frontend-1', 'frontend', ports.frontendAdmin, [
    '--outbound',
    `127.0.0.1:${ports.frontendOut}`,
  ]),
  sidecar('catalog-1', 'catalog', ports.catalogAdmin, [
    '--outbound',
    `127.0.0.1:${ports.catalogOut}`,
  ]),
  {
    name: 'shop',
    command: process.execPath,
    args: ['scripts/demo-services.mjs'],
    env: {
      TRELLIS_OUTBOUND_FRONTEND: String(ports.frontendOut),
      TRELLIS_OUTBOUND_CATALOG: String(ports.catalogOut),
    },
    ready: 'http://127.0.0.1:18084/',
  },
];

const children: { name: string; child: ChildProcess }[] = [];
let nats: NatsServerHandle | undefined;

function prefixLines(
  name: string,
  stream: NodeJS.ReadableStream,
  out: NodeJS.WritableStream,
): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) out.write(`[${name}] ${line}\n`);
  });
}

async function waitReady(
  name: string,
  child: ChildProcess,
  url: string,
  deadlineMs: number,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited with code ${child.exitCode} before it was ready`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${name} was not ready at ${url} within ${deadlineMs} ms`);
}

/**
 * Stops every child (SIGTERM, then SIGKILL after 25 s), then NATS, then exits. Runs once: a
 * second signal — `npm run` forwards the terminal's Ctrl-C to the demo, which the terminal also
 * sent it — must not cut the shutdown short while the control plane still talks to NATS.
 */
let stopped: Promise<never> | undefined;
function stopAll(code: number): Promise<never> {
  stopped ??= stopEverything(code);
  return stopped;
}

async function stopEverything(code: number): Promise<never> {
  for (const { child } of children) {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
  const deadline = Date.now() + 25_000;
  while (
    children.some(({ child }) => child.exitCode === null && child.signalCode === null) &&
    Date.now() < deadline
  ) {
    await sleep(50);
  }
  for (const { child } of children) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await nats?.stop();
  console.log('demo stopped: every process it started has exited');
  process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  nats = await startNatsServer({
    port: ports.nats,
    users: trellisNatsUsers({ controlPlanePassword, sidecars: sidecarUsers }),
    // The mesh's limits (auth timeout, write deadline, connections) as a deployment sets them.
    limits: trellisNatsLimits(processes.length),
    serverName: 'trellis-demo',
    // Ctrl-C must not reach NATS before the control plane has released its lease through it.
    ownProcessGroup: true,
  });
  console.log(
    `[demo] nats-server ${nats.url} (authentication on: users ${CONTROL_PLANE_NATS_USER}, ${sidecarUsers.map((u) => sidecarNatsUser(u.namespace, u.pod)).join(', ')})`,
  );
  for (const spec of processes) {
    const child = spawn(resolve(root, spec.command), spec.args, {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...spec.env },
    });
    children.push({ name: spec.name, child });
    if (child.stdout) prefixLines(spec.name, child.stdout, process.stdout);
    if (child.stderr) prefixLines(spec.name, child.stderr, process.stderr);
    child.on('exit', (code, signal) => {
      if (stopped === undefined) {
        console.error(
          `[demo] ${spec.name} exited unexpectedly (code ${code}, signal ${signal}); stopping the demo`,
        );
        void stopAll(1);
      }
    });
    await waitReady(spec.name, child, spec.ready, 20_000);
  }
} catch (error) {
  console.error(`[demo] ${(error as Error).message}`);
  await stopAll(1);
}

console.log(`
Trellis demo is running: a shop (frontend → catalog 90 % v1 / 10 % v2 → pricing) behind an edge
gateway and sidecars. The control plane compiles examples/shop and delivers it over NATS; edit a
file there and routing changes within a second (an invalid edit is refused; the last good
config stays in force everywhere).

  through the gateway:   curl -H 'Host: shop.example.com' http://127.0.0.1:${ports.gateway}/
  sidecar sync state:    npx meshctl status   (or http://127.0.0.1:${ports.controlPlaneApi}/api/v1/proxies, live: /api/v1/events)
  control plane:         http://127.0.0.1:${ports.controlPlaneApi}/api/v1/snapshot   /api/v1/issues   /metrics
  gateway admin:         http://127.0.0.1:${ports.gatewayAdmin}/config   /clusters   /stats   /sync
  sidecar metrics:       http://127.0.0.1:${ports.gatewayAdmin}/metrics (gateway)   http://127.0.0.1:${ports.frontendAdmin}/metrics (frontend)   http://127.0.0.1:${ports.catalogAdmin}/metrics (catalog)
  traces:                ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? `exported to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}` : 'set OTEL_EXPORTER_OTLP_ENDPOINT to export them (W3C/B3 headers are propagated either way)'}
  validate by hand:      npx meshctl validate examples/shop

Press Ctrl-C to stop everything.
`);
