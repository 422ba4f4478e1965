// `npm run bench:telemetry-pairs`: the CPU each telemetry feature costs the sidecar per request,
// measured in pairs: two sidecars run at once on the same core, one with telemetry off and one
// with the variant, each loaded to saturation by its own wrk. Both see the same machine at the
// same moment, so the host noise that moves this VM's req/s by ±20 % between runs (and
// bench:telemetry's ratios with it) cancels out: an off/off pair agrees within about 1 %.
// Each sidecar's CPU time (every thread, from /proc/PID/task/*/schedstat) over its completed
// requests gives its cost per request; cost(off) / cost(variant) is the throughput the variant
// keeps at equal CPU — the ratio #5's target is about. Both sidecars share the core and its
// caches, so the µs per request are higher than a sidecar alone shows; compare the ratios.
//
// Upstream: a local nginx (one worker, keep-alive, 1,024-byte body, as ../shared/bench's) and,
// for variants that export spans, the local OTLP sink (scripts/otlp-sink.mjs), all on CPU 0
// with the load; the sidecars on CPU 1. The sidecars run through scripts/bench-candidate.sh
// with BENCH_TELEMETRY=off and =<variant>, exactly as bench:telemetry runs them.
//
// Usage: node scripts/bench-telemetry-pairs.mjs [--variants off,only-log,...] [--rounds N]
//   [--duration S] [--warmup S] [--no-record] [--no-build]
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
const { values: args } = parseArgs({
  options: {
    variants: { type: 'string', default: 'off,only-log,only-metrics,only-tracing-1,on-1' },
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '2' },
    'no-record': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
  },
});
const fail = (message) => {
  console.error(`bench:telemetry-pairs: ${message}`);
  process.exit(2);
};
const wholeNumber = (name, min, max) => {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < min || value > max)
    fail(`--${name} takes a whole number from ${min} to ${max}, got '${args[name]}'`);
  return value;
};
const rounds = wholeNumber('rounds', 1, 20);
const duration = wholeNumber('duration', 2, 60);
const warmup = wholeNumber('warmup', 1, 30);
const variants = args.variants.split(',');
const VARIANT = /^(off|only-log|only-metrics|only-tracing-(\d{1,2}|100)|on-(\d{1,2}|100))$/;
for (const variant of variants)
  if (!VARIANT.test(variant))
    fail(`unknown variant '${variant}' (off, only-log, only-metrics, only-tracing-<P>, on-<P>)`);
for (const tool of ['nginx', 'wrk', 'taskset'])
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
    fail(`${tool} is missing: ../shared/bench/peers.sh installs it (apt-get install nginx wrk)`);
const LOAD_CPU = '0';
const PROXY_CPU = '1';
const CONNECTIONS = 32;

if (!args['no-build']) {
  const built = spawnSync('npx', ['nx', 'run', 'sidecar:build', '--outputStyle=static'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
  });
  if (built.status !== 0) fail('the sidecar does not build');
}

const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
const base = join('tmp', `bench-telemetry-pairs-${stamp}`);
mkdirSync(base, { recursive: true });
const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Children to stop on the way out, whatever the way. */
const children = new Set();
const stop = async (child) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const late = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(late);
  children.delete(child);
};
const stopAll = () => {
  for (const child of children) child.kill('SIGKILL');
};
process.on('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

/** Starts `argv` pinned to `cpu`, output to `logFile`. */
const start = (cpu, argv, logFile, env = {}) => {
  const out = openSync(logFile, 'w');
  const child = spawn('taskset', ['-c', cpu, ...argv], {
    stdio: ['ignore', out, out],
    env: { ...process.env, ...env },
  });
  // The child has its own copy of the descriptor.
  closeSync(out);
  children.add(child);
  return child;
};

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
const accepts = (port) =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
const waitListening = async (port, child, what) => {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) fail(`${what} exited before listening on ${port}`);
    if (await accepts(port)) return;
    await sleep(50);
  }
  fail(`${what} did not listen on ${port} within 15 s`);
};

// The upstream: nginx answering every request with 1,024 bytes over keep-alive.
const upstreamPort = await freePort();
const nginxDir = join(root, base, 'nginx');
mkdirSync(join(nginxDir, 'tmp'), { recursive: true });
writeFileSync(
  join(nginxDir, 'nginx.conf'),
  `worker_processes 1;
daemon off;
pid ${nginxDir}/nginx.pid;
error_log ${nginxDir}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path ${nginxDir}/tmp/body;
  proxy_temp_path ${nginxDir}/tmp/proxy;
  fastcgi_temp_path ${nginxDir}/tmp/fastcgi;
  uwsgi_temp_path ${nginxDir}/tmp/uwsgi;
  scgi_temp_path ${nginxDir}/tmp/scgi;
  server {
    listen 127.0.0.1:${upstreamPort} backlog=4096;
    location / { default_type text/plain; return 200 "${'x'.repeat(1024)}"; }
  }
}
`,
);
const nginx = start(
  LOAD_CPU,
  ['nginx', '-p', nginxDir, '-c', join(nginxDir, 'nginx.conf')],
  join(nginxDir, 'out.log'),
);
await waitListening(upstreamPort, nginx, 'the nginx upstream');

// The OTLP sink, for variants that export spans.
const sinkDir = join(base, 'sink');
mkdirSync(sinkDir, { recursive: true });
const sink = start(
  LOAD_CPU,
  [
    'node',
    'scripts/otlp-sink.mjs',
    '--port-file',
    join(sinkDir, 'port'),
    '--stats',
    join(sinkDir, 'stats.json'),
  ],
  join(sinkDir, 'sink.log'),
);
let sinkPort;
for (let i = 0; i < 100 && sinkPort === undefined; i++) {
  await sleep(50);
  try {
    sinkPort = Number(readFileSync(join(sinkDir, 'port'), 'utf8'));
  } catch {
    // not written yet
  }
}
if (!sinkPort) fail('the OTLP sink did not start');

/** CPU nanoseconds every thread of `pid` has run so far. */
const cpuNs = (pid) => {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return total;
};

/** Runs wrk against each port at once for `seconds`; the completed requests of each. */
const loadBoth = async (ports, seconds) => {
  const runs = ports.map((port) => {
    const child = spawn(
      'taskset',
      [
        '-c',
        LOAD_CPU,
        'wrk',
        '-t1',
        `-c${CONNECTIONS}`,
        `-d${seconds}s`,
        `http://127.0.0.1:${port}/`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.add(child);
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    return new Promise((resolve) =>
      child.once('exit', () => {
        children.delete(child);
        const requests = /(\d+) requests in/.exec(out);
        const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out);
        resolve({ requests: requests ? Number(requests[1]) : 0, errors: errors?.[0] });
      }),
    );
  });
  return Promise.all(runs);
};

/** An access-log line (JSON without a format), as opposed to the sidecar's own pino lines. */
const ACCESS_LINE = /^\{"time":"[^"]*","request_id":"/;
/** Drops the access-log lines from a sidecar's log (about 500 bytes per request), keeping a count. */
const trimAccessLines = (file) => {
  const lines = readFileSync(file, 'utf8').split('\n');
  const kept = lines.filter((line) => !ACCESS_LINE.test(line));
  kept.push(`bench:telemetry-pairs: ${lines.length - kept.length} access-log lines removed`);
  writeFileSync(file, kept.join('\n'));
};

const median = (values) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const results = new Map(variants.map((variant) => [variant, []]));
const notes = [];
for (let round = 1; round <= rounds; round++) {
  for (const variant of variants) {
    const dir = join(base, `r${round}-${variant}`);
    mkdirSync(dir, { recursive: true });
    const sides = [];
    for (const [name, telemetry] of [
      ['off', 'off'],
      ['variant', variant],
    ]) {
      const port = await freePort();
      const child = start(
        PROXY_CPU,
        ['bash', 'scripts/bench-candidate.sh'],
        join(dir, `${name}.log`),
        {
          LISTEN_PORT: String(port),
          UPSTREAM_HOST: '127.0.0.1',
          UPSTREAM_PORT: String(upstreamPort),
          UPSTREAM_H2C_PORT: String(upstreamPort),
          BENCH_TELEMETRY: telemetry,
          BENCH_CANDIDATE_DIR: join(root, dir, name),
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`,
        },
      );
      sides.push({ name, port, child });
    }
    // Which one starts and is listed first alternates, so neither always has the edge.
    if (round % 2 === 0) sides.reverse();
    for (const side of sides)
      await waitListening(side.port, side.child, `the ${side.name} sidecar`);
    await loadBoth(
      sides.map((side) => side.port),
      warmup,
    );
    const before = sides.map((side) => cpuNs(side.child.pid));
    const loads = await loadBoth(
      sides.map((side) => side.port),
      duration,
    );
    const after = sides.map((side) => cpuNs(side.child.pid));
    const measured = {};
    sides.forEach((side, i) => {
      const { requests, errors } = loads[i];
      if (errors)
        notes.push(`round ${round} · ${variant}: the ${side.name} sidecar's load: ${errors}`);
      measured[side.name] = { requests, nsPerRequest: (after[i] - before[i]) / requests };
    });
    for (const side of sides) {
      await stop(side.child);
      trimAccessLines(join(dir, `${side.name}.log`));
    }
    const ratio = measured.off.nsPerRequest / measured.variant.nsPerRequest;
    results.get(variant).push({ ...measured, ratio });
    console.error(
      `[bench:telemetry-pairs] round ${round}/${rounds} · ${variant}: off ${(measured.off.nsPerRequest / 1000).toFixed(1)} µs/request, ${variant} ${(measured.variant.nsPerRequest / 1000).toFixed(1)} µs/request, ratio ${ratio.toFixed(3)}`,
    );
  }
}
await stop(sink);
await stop(nginx);
const loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const what = {
  off: "telemetry off against telemetry off: the method's own spread",
  'only-log': 'access log only (JSON lines on stdout, to a file)',
  'only-metrics': 'request metrics only (recorded, not scraped)',
  on: 'request metrics, access log and tracing, spans exported to the local OTLP sink',
  'only-tracing': 'tracing only, spans exported to the local OTLP sink',
};
const describe = (variant) => {
  const percent = /-(\d+)$/.exec(variant)?.[1];
  if (variant.startsWith('only-tracing')) return `${what['only-tracing']}, ${percent} % sampled`;
  if (variant.startsWith('on-')) return `${what.on}, ${percent} % sampled`;
  return what[variant];
};
const roundList = Array.from({ length: rounds }, (_, i) => i + 1);
const table = [
  `| variant | what is on | ${roundList.map((r) => `r${r}`).join(' | ')} | median | off µs/request median | variant µs/request median |`,
  `| --- | --- | ${roundList.map(() => '---:').join(' | ')} | ---: | ---: | ---: |`,
  ...variants.map((variant) => {
    const runs = results.get(variant);
    return `| ${variant} | ${describe(variant)} | ${runs.map((run) => run.ratio.toFixed(3)).join(' | ')} | **${median(runs.map((run) => run.ratio)).toFixed(3)}** | ${(median(runs.map((run) => run.off.nsPerRequest)) / 1000).toFixed(1)} | ${(median(runs.map((run) => run.variant.nsPerRequest)) / 1000).toFixed(1)} |`;
  }),
];
const git = (argv) => spawnSync('git', argv, { encoding: 'utf8' }).stdout.trim();
const dirty = spawnSync('git', ['diff', '--quiet', 'HEAD', '--', 'apps', 'libs']).status !== 0;
const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
const osName =
  /PRETTY_NAME="([^"]*)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown OS';
const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
const section = [
  `## Telemetry cost in pairs, ${when} UTC`,
  '',
  `Command: \`npm run bench:telemetry-pairs --${args['no-build'] ? ' --no-build' : ''} --rounds ${rounds} --duration ${duration} --warmup ${warmup} --variants ${variants.join(',')}\` (raw logs in \`${base}\`).`,
  `Machine: ${cpus().length} vCPU ${model}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${osName}, Node.js ${process.version}, commit ${git(['rev-parse', '--short', 'HEAD'])}${dirty ? ' plus uncommitted changes in apps/ or libs/' : ''}; load average ${loadBefore} before, ${loadAfter} after.`,
  '',
  `Per round and variant, two sidecars (scripts/bench-candidate.sh, BENCH_TELEMETRY=off and =<variant>) share CPU ${PROXY_CPU}, each loaded by its own \`wrk -t1 -c${CONNECTIONS}\` for ${duration} s (after ${warmup} s of warm-up) on CPU ${LOAD_CPU} with a local nginx upstream and OTLP sink. The ratio is off's CPU per request over the variant's: the share of its throughput the variant keeps at equal CPU (issue #5's target: ≥ 0.85 with everything on at 1 %). Sharing the core raises both sidecars' µs per request above a lone sidecar's.`,
  '',
  ...table,
  '',
  ...(notes.length ? ['Notes:', '', ...notes.map((note) => `- ${note}`), ''] : []),
].join('\n');
writeFileSync(join(base, 'section.md'), `${section}\n`);
if (args['no-record']) console.log(section);
else {
  appendFileSync('docs/benchmarks.md', `\n${section}`);
  console.log(`${section}\n\n(appended to docs/benchmarks.md)`);
}
