// `npm run bench:startup`: builds the sidecar, then starts it N times one after the other from a
// small static gateway config and measures spawn → first 200 from the admin `/ready` (polled
// every 2 ms) and the idle RSS (VmRSS, 2 s after ready). Prints median / p90 / max and appends a
// section to docs/benchmarks.md with the command, the machine and the load average at start.
// Options: --runs N (default 20), --no-record (trial run: print only), --no-build (use the
// dist/apps/sidecar/main.js already built).
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 2;
const IDLE_MS = 2000;
const READY_TIMEOUT_MS = 30_000;

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const record = !args.includes('--no-record');
const runsIndex = args.indexOf('--runs');
const runs = runsIndex === -1 ? 20 : Number(args[runsIndex + 1]);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('bench:startup: --runs needs a positive integer');
  process.exit(2);
}

const loadAtStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
if (!args.includes('--no-build')) {
  execFileSync('npx', ['nx', 'run', 'sidecar:build', '--outputStyle=static'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
  });
}

const configDir = join(root, 'tmp', 'bench-startup');
mkdirSync(configDir, { recursive: true });
const configFile = join(configDir, 'bench.yaml');
// Like scripts/bench-candidate.sh: two services with their endpoints, two routes. Nothing listens
// on the upstream ports: start-up never dials them.
writeFileSync(
  configFile,
  `apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: upstream-h1}
spec: {ports: [{port: 80, protocol: http1}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Endpoints
metadata: {name: upstream-h1}
spec: {service: upstream-h1, endpoints: [{address: 127.0.0.1, port: 9}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: upstream-h2c}
spec: {ports: [{port: 80, protocol: h2c}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Endpoints
metadata: {name: upstream-h2c}
spec: {service: upstream-h2c, endpoints: [{address: 127.0.0.1, port: 9}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: h2c-clients}
spec:
  hosts: [127.0.0.1, localhost]
  match: {protocol: h2c}
  destinations: [{service: upstream-h2c}]
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: http1-clients}
spec:
  hosts: [127.0.0.1, localhost]
  destinations: [{service: upstream-h1}]
`,
);

/** A port free on 127.0.0.1 right now (the OS picks it; the sidecar binds it a moment later). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The status of one GET, or undefined when the connection fails (not listening yet). */
function getStatus(port, path) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once('error', () => resolve(undefined));
    req.end();
  });
}

/** CPU time (user + system) the process has used so far, in ms (clock ticks of 10 ms). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssKiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((text) => text.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1]);
}

async function startOnce() {
  const listen = await freePort();
  const admin = await freePort();
  let output = '';
  const started = performance.now();
  const child = spawn(
    join(root, 'apps/sidecar/bin/trellis-sidecar'),
    [
      ...['--role', 'gateway', '--config', configFile],
      ...['--listen', `127.0.0.1:${listen}`, '--admin', `127.0.0.1:${admin}`],
    ],
    { cwd: root, env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' } },
  );
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let exit;
  void exited.then((value) => (exit = value));
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  let readyMs;
  while (readyMs === undefined) {
    if (exit !== undefined || performance.now() - started > READY_TIMEOUT_MS) {
      child.kill('SIGKILL');
      throw new Error(`sidecar not ready (exit ${JSON.stringify(exit)}); output:\n${output}`);
    }
    if ((await getStatus(admin, '/ready')) === 200) readyMs = performance.now() - started;
    else await sleep(POLL_MS);
  }
  const cpu = cpuMs(child.pid);
  await sleep(IDLE_MS);
  const rss = rssKiB(child.pid);
  child.kill('SIGTERM');
  await exited;
  return { readyMs, cpuMs: cpu, rssMiB: rss / 1024 };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median =
    sorted.length % 2 === 1 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  return [median, percentile(sorted, 90), sorted[sorted.length - 1]]
    .map((value) => value.toFixed(1))
    .join(' / ');
}

const results = [];
for (let run = 1; run <= runs; run += 1) {
  const result = await startOnce();
  results.push(result);
  console.log(
    `run ${run}/${runs}: ready ${result.readyMs.toFixed(1)} ms, CPU ${result.cpuMs} ms, idle RSS ${result.rssMiB.toFixed(1)} MiB`,
  );
}

const ready = summary(results.map((r) => r.readyMs));
const cpu = summary(results.map((r) => r.cpuMs));
const rss = summary(results.map((r) => r.rssMiB));
console.log(`spawn → /ready ms median / p90 / max: ${ready}`);
console.log(`CPU ms until ready median / p90 / max: ${cpu}`);
console.log(`idle RSS MiB median / p90 / max: ${rss}`);

if (record) {
  const osName = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: root,
    encoding: 'utf8',
  }).trim();
  const cpuModel = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const command = `npm run bench:startup${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  appendFileSync(
    join(root, 'docs/benchmarks.md'),
    `
## Sidecar start-up, ${date} UTC

Command: \`${command}\`.
Machine: ${cpus().length} vCPU ${cpuModel}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${osName}, Node.js ${process.version}, commit ${commit}. Load average at start: ${loadAtStart}.

The built sidecar through its launcher (\`apps/sidecar/bin/trellis-sidecar --role gateway\`, with its memory settings), a static config of two services, their endpoints and two routes, no OTLP endpoint, no NATS) started ${runs} times one after the other. "Spawn → ready" is from the spawn call until the admin \`/ready\` first answers 200 (polled every ${POLL_MS} ms); "CPU until ready" is the sidecar's user + system time at that moment (/proc, 10 ms ticks), which other jobs on the machine disturb less than the wall clock; idle RSS is VmRSS ${IDLE_MS / 1000} s after ready. Target: start-up to ready under 300 ms.

| runs | spawn → ready ms median / p90 / max | CPU until ready ms median / p90 / max | idle RSS MiB median / p90 / max |
| ---: | ----------------------------------- | ------------------------------------- | ------------------------------- |
| ${runs} | ${ready} | ${cpu} | ${rss} |
`,
  );
  console.log('appended the figures to docs/benchmarks.md');
}
