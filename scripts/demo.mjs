// Runs the demo mesh in the foreground: starts every process, waits until each is ready,
// prints where to look, and on Ctrl-C (or SIGTERM) stops everything it started — each child
// runs in its own process group, so nothing it spawned survives.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const root = new URL('..', import.meta.url).pathname;
const stateDir = `${root}.demo`;
mkdirSync(stateDir, { recursive: true });

const ports = { controlPlaneApi: 15080 };
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
Trellis demo is running. Config source: examples/shop (edit a file there and watch the control plane recompile).
  control plane API:   http://127.0.0.1:${ports.controlPlaneApi}/api/v1/snapshot
  config issues:       http://127.0.0.1:${ports.controlPlaneApi}/api/v1/issues
  validate by hand:    npx meshctl validate examples/shop
Press Ctrl-C to stop everything.
`);
