// One worker process of the control-plane benchmark: runs `count` simulated sidecars, each a real
// NATS connection driven by the real ControlPlaneClient with a holder that only records when it
// applied which version (no proxy). Answers the parent's queries about who applied or resynced.
import type { Snapshot } from '@trellis/config';
import { ControlPlaneClient } from '@trellis/sidecar-delivery';
import type { DeliveryLogger } from '@trellis/sidecar-delivery';
import { BENCH_NAMESPACE, benchNow } from './messages.js';
import type { FromWorker, ToWorker } from './messages.js';

/** Versions remembered per sidecar; the benchmark only asks about recent ones. */
const KEPT_APPLIES = 16;

interface Sim {
  readonly client: ControlPlaneClient;
  /** Oldest first: [version, benchNow at apply]. */
  readonly applies: [number, number][];
}

const sims: Sim[] = [];
const warnings: Record<string, number> = {};

function send(message: FromWorker): void {
  process.send?.(message);
}

// The clients log every reconnect of every sidecar; the benchmark only counts warnings by code
// message and reason (the message says what an uncoded one is).
const count = (fields: object, message: string): void => {
  const { code, reason } = fields as { code?: unknown; reason?: unknown };
  const why = typeof reason === 'string' ? ` (${reason.slice(0, 80)})` : '';
  const key = `${typeof code === 'string' ? code : 'uncoded'}: ${message}${why}`;
  warnings[key] = (warnings[key] ?? 0) + 1;
};
const quietLog: DeliveryLogger = { info: () => undefined, warn: count, error: count };

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function start(message: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const { sidecars } = message;
  for (let from = 0; from < sidecars.length; from += message.batch) {
    const batch: Sim[] = [];
    for (const { pod, user, password } of sidecars.slice(from, from + message.batch)) {
      const applies: [number, number][] = [];
      const client = new ControlPlaneClient({
        servers: message.servers,
        user,
        password,
        identity: {
          namespace: BENCH_NAMESPACE,
          pod,
          service: 'catalog',
          role: 'sidecar',
          labels: {},
          startedAt: new Date().toISOString(),
        },
        holder: (snapshot: Snapshot) => {
          applies.push([snapshot.version, benchNow()]);
          if (applies.length > KEPT_APPLIES) applies.shift();
          return { accepted: true, version: snapshot.version };
        },
        wallClock: benchNow,
        log: quietLog,
      });
      batch.push({ client, applies });
      sims.push({ client, applies });
      await client.start();
    }
    const deadline = benchNow() + message.connectTimeoutMs;
    while (!batch.every((s) => s.client.connected)) {
      if (benchNow() > deadline) {
        const connected = batch.filter((s) => s.client.connected).length;
        throw new Error(
          `only ${connected} of a batch of ${batch.length} sidecars (from ${sidecars[from]?.pod}) connected to NATS within ${message.connectTimeoutMs} ms`,
        );
      }
      await delay(10);
    }
  }
  send({ type: 'started', connected: sims.filter((s) => s.client.connected).length });
}

function versionStatus(id: number, version: number): FromWorker {
  const times: number[] = [];
  for (const sim of sims) {
    const hit = sim.applies.find(([v]) => v >= version);
    if (hit) times.push(hit[1]);
  }
  return {
    type: 'version-status',
    id,
    applied: times.length,
    times: times.length === sims.length ? times : undefined,
  };
}

function resyncStatus(id: number, since: number): FromWorker {
  let resynced = 0;
  let connected = 0;
  let latest = 0;
  for (const sim of sims) {
    if (sim.client.connected) connected++;
    // Confirmed on the newest version: by a sync answer, or by the control plane's head
    // announcement after the reconnect (no SyncRequest needed then). The cheap accessors, not
    // state(): this runs for every sidecar of the worker ten times a second during the storm,
    // and building each state cost the storm ~10% of the worker's CPU.
    const at = sim.client.confirmedAt ?? 0;
    if (sim.client.connected && at > since) {
      resynced++;
      latest = Math.max(latest, at);
    }
  }
  return {
    type: 'resync-status',
    id,
    resynced,
    connected,
    latest: resynced === sims.length ? latest : undefined,
  };
}

async function stop(closeTimeoutMs: number): Promise<void> {
  const counters: Record<string, number> = {};
  for (const sim of sims)
    for (const [name, n] of Object.entries(sim.client.state().counters))
      counters[name] = (counters[name] ?? 0) + n;
  await Promise.race([
    Promise.allSettled(sims.map((s) => s.client.close())),
    delay(closeTimeoutMs),
  ]);
  send({ type: 'stopped', warnings, counters });
  process.exit(0);
}

process.on('message', (raw) => {
  const message = raw as ToWorker;
  switch (message.type) {
    case 'start':
      start(message).catch((error: unknown) =>
        send({ type: 'failed', message: (error as Error).message }),
      );
      break;
    case 'query-version':
      send(versionStatus(message.id, message.version));
      break;
    case 'query-resync':
      send(resyncStatus(message.id, message.since));
      break;
    case 'stop':
      void stop(message.closeTimeoutMs);
      break;
  }
});
// The parent going away (crash, SIGKILL) must not leave thousands of connections behind.
process.on('disconnect', () => process.exit(0));
