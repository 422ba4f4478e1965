// Runs the demo mesh in the foreground: starts every process, waits until each is ready,
// prints where to look, and on Ctrl-C (or SIGTERM) stops everything it started — each child
// runs in its own process group, so nothing it spawned survives.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const root = new URL('..', import.meta.url).pathname;
const stateDir = `${root}.demo`;
mkdirSync(stateDir, { recursive: true });

const ports = {
  controlPlaneApi: 15080,
  gateway: 18080,
  gatewayAdmin: 15100,
  frontendOut: 15001,
  frontendAdmin: 15101,
  catalogOut: 15002,
  catalogAdmin: 15102,
};
const sidecar = (name, args) => ({
  name,
  command: process.execPath,
  args: ['dist/apps/sidecar/main.js', '--config', 'examples/shop', '--namespace', 'shop', ...args],
  ready: `http://127.0.0.1:${args[args.indexOf('--admin') + 1].split(':')[1]}/ready`,
});
const processes = [
  {
    name: 'control-plane',
    command: process.execPath,
    args: [
      'dist/apps/control-plane/main.js',
      '--source',
      'examples/shop',
      '--api',
      `127.0.0.1:${ports.controlPlaneApi}`,
    ],
    ready: `http://127.0.0.1:${ports.controlPlaneApi}/readyz`,
  },
  sidecar('gateway', [
    '--role',
    'gateway',
    '--listen',
    `127.0.0.1:${ports.gateway}`,
    '--admin',
    `127.0.0.1:${ports.gatewayAdmin}`,
  ]),
  sidecar('frontend-sidecar', [
    '--outbound',
    `127.0.0.1:${ports.frontendOut}`,
    '--admin',
    `127.0.0.1:${ports.frontendAdmin}`,
  ]),
  sidecar('catalog-sidecar', [
    '--outbound',
    `127.0.0.1:${ports.catalogOut}`,
    '--admin',
    `127.0.0.1:${ports.catalogAdmin}`,
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

const children = [];
let stopping = false;

function prefixLines(name, stream, out) {
  let buffered = '';
  stream.on('data', (chunk) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) out.write(`[${name}] ${line}\n`);
  });
}

async function waitReady(child, url, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${child.name} exited with code ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${child.name} was not ready at ${url} within ${deadlineMs} ms`);
}

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) {
    if (child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
  const deadline = Date.now() + 5000;
  while (
    children.some((c) => c.exitCode === null && c.signalCode === null) &&
    Date.now() < deadline
  )
    await sleep(50);
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  console.log('demo stopped: every process it started has exited');
  process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  for (const spec of processes) {
    const child = spawn(spec.command, spec.args, {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...spec.env },
    });
    child.name = spec.name;
    children.push(child);
    prefixLines(spec.name, child.stdout, process.stdout);
    prefixLines(spec.name, child.stderr, process.stderr);
    child.on('exit', (code, signal) => {
      if (!stopping) {
        console.error(
          `[demo] ${spec.name} exited unexpectedly (code ${code}, signal ${signal}); stopping the demo`,
        );
        void stopAll(1);
      }
    });
    await waitReady(child, spec.ready, 15000);
  }
} catch (error) {
  console.error(`[demo] ${error.message}`);
  await stopAll(1);
}

console.log(`
Trellis demo is running: a shop (frontend → catalog 90 % v1 / 10 % v2 → pricing) behind an edge
gateway and sidecars, all configured from examples/shop (edit a file there: every sidecar reloads,
the control plane recompiles; an invalid edit is rejected and the last good config stays).

  through the gateway:   curl -H 'Host: shop.example.com' http://127.0.0.1:${ports.gateway}/
  gateway admin:         http://127.0.0.1:${ports.gatewayAdmin}/config   /clusters   /stats
  sidecar admins:        http://127.0.0.1:${ports.frontendAdmin}/stats (frontend)   http://127.0.0.1:${ports.catalogAdmin}/stats (catalog)
  control plane API:     http://127.0.0.1:${ports.controlPlaneApi}/api/v1/snapshot   /api/v1/issues
  validate by hand:      npx meshctl validate examples/shop

Press Ctrl-C to stop everything.
`);
