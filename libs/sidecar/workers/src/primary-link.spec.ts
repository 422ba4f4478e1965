import { buildSnapshot } from '@trellis/config';
import type { Resource, Snapshot } from '@trellis/config';
import { ConfigHolder } from '@trellis/sidecar-runtime';
import { describe, expect, it } from 'vitest';
import type { ToPrimary } from './ipc-messages.js';
import { PrimaryLink } from './primary-link.js';
import type { ServeOptions } from './primary-link.js';

const service = (name: string): Resource =>
  ({
    apiVersion: 'trellis.dev/v1alpha1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { ports: [{ port: 8080, protocol: 'http1' }] },
  }) as Resource;

/** What the primary sends: the snapshot through JSON, as the IPC channel carries it. */
const wire = (snapshot: Snapshot) => JSON.parse(JSON.stringify(snapshot)) as Snapshot;

function setup(build: (s: Snapshot) => number = (s) => s.version) {
  const sent: ToPrimary[] = [];
  let deliver: (message: unknown) => void = () => undefined;
  const errors: string[] = [];
  let exitedBeforeServing = 0;
  const holder = new ConfigHolder(build);
  const link = new PrimaryLink({
    channel: {
      send: (m) => void sent.push(m),
      onMessage: (listener) => (deliver = listener),
    },
    target: holder,
    log: {
      info: () => undefined,
      warn: () => undefined,
      error: (_fields, message) => void errors.push(message),
    },
    exitBeforeServing: () => void exitedBeforeServing++,
  });
  const drains: string[] = [];
  const serveOptions: ServeOptions = {
    addresses: { gateway: '127.0.0.1:8080' },
    views: {
      stats: () => ({ status: 200, body: { requests_total: 3 } }),
      clusters: async () => ({ status: 200, body: [] }),
      metrics: () => {
        throw new Error('registry broken');
      },
      telemetry: () => ({ status: 200, body: { windowSeconds: 10, series: [] } }),
    },
    drain: () => void drains.push('drain'),
  };
  return {
    holder,
    link,
    sent,
    errors,
    drains,
    serveOptions,
    deliver: (m: unknown) => deliver(m),
    exitedBeforeServing: () => exitedBeforeServing,
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('PrimaryLink', () => {
  it('says hello and resolves start() once the first snapshot is in force', async () => {
    const { link, sent, deliver, holder } = setup();
    let started = false;
    void link.start().then(() => (started = true));
    expect(sent).toEqual([{ type: 'trellis:hello' }]);
    await settle();
    expect(started).toBe(false);
    const snapshot = buildSnapshot([service('a')], 1);
    deliver({ type: 'trellis:snapshot', snapshot: wire(snapshot) });
    await settle();
    expect(started).toBe(true);
    expect(holder.current?.snapshot).toEqual(snapshot);
    expect(Object.isFrozen(holder.current?.snapshot.resources[0])).toBe(true);
    expect(sent.at(-1)).toEqual({ type: 'trellis:applied', version: 1, hash: snapshot.hash });
  });

  it('applies each later version and reports it', () => {
    const { link, sent, deliver, holder } = setup();
    void link.start();
    deliver({ type: 'trellis:snapshot', snapshot: wire(buildSnapshot([service('a')], 1)) });
    const second = buildSnapshot([service('b')], 2);
    deliver({ type: 'trellis:snapshot', snapshot: wire(second) });
    expect(holder.current?.runtime).toBe(2);
    expect(sent.at(-1)).toEqual({ type: 'trellis:applied', version: 2, hash: second.hash });
  });

  it('answers the version in force again without rebuilding it', () => {
    let builds = 0;
    const { link, sent, deliver } = setup((s) => (builds++, s.version));
    void link.start();
    const snapshot = wire(buildSnapshot([service('a')], 1));
    deliver({ type: 'trellis:snapshot', snapshot });
    deliver({ type: 'trellis:snapshot', snapshot });
    expect(builds).toBe(1);
    expect(sent.slice(-2)).toEqual([
      { type: 'trellis:applied', version: 1, hash: snapshot.hash },
      { type: 'trellis:applied', version: 1, hash: snapshot.hash },
    ]);
  });

  it('refuses a snapshot whose content does not match its hash, keeping the config in force', () => {
    const { link, sent, deliver, holder } = setup();
    void link.start();
    deliver({ type: 'trellis:snapshot', snapshot: wire(buildSnapshot([service('a')], 1)) });
    const tampered = { ...wire(buildSnapshot([service('b')], 2)), hash: 'sha256:00' };
    deliver({ type: 'trellis:snapshot', snapshot: tampered });
    expect(holder.current?.snapshot.version).toBe(1);
    expect(sent.at(-1)).toMatchObject({ type: 'trellis:rejected', version: 2 });
    expect((sent.at(-1) as { issues?: string[] }).issues?.[0]).toMatch(
      /^snapshot 2 hashes to sha256:[0-9a-f]{64}, not sha256:00$/,
    );
  });

  it('refuses resources that do not validate, and a runtime that does not build', () => {
    const { link, sent, deliver } = setup((s) => {
      if (s.version === 2) throw new Error('no runtime');
      return s.version;
    });
    void link.start();
    deliver({
      type: 'trellis:snapshot',
      snapshot: { version: 1, hash: 'sha256:00', resources: [{ kind: 'Nope' }] },
    });
    expect(sent.at(-1)).toMatchObject({ type: 'trellis:rejected', version: 1 });
    deliver({ type: 'trellis:snapshot', snapshot: wire(buildSnapshot([service('a')], 2)) });
    expect(sent.at(-1)).toEqual({
      type: 'trellis:rejected',
      version: 2,
      issues: ['no runtime'],
    });
  });

  it('logs and ignores a malformed message', () => {
    const { link, sent, deliver, errors } = setup();
    void link.start();
    deliver({ type: 'trellis:collect', id: 'x', view: 'stats' });
    deliver({ type: 'someone-else' });
    expect(errors).toEqual(['ignored a malformed message from the primary']);
    expect(sent).toEqual([{ type: 'trellis:hello' }]);
  });

  it('reports its listeners once serving, and answers view requests by id', async () => {
    const { link, sent, deliver, serveOptions } = setup();
    void link.start();
    deliver({ type: 'trellis:collect', id: 1, view: 'stats' });
    await settle();
    expect(sent.at(-1)).toEqual({
      type: 'trellis:collected',
      id: 1,
      status: 503,
      body: { error: 'not listening yet' },
    });
    link.serve(serveOptions);
    expect(sent.at(-1)).toEqual({
      type: 'trellis:listening',
      addresses: { gateway: '127.0.0.1:8080' },
    });
    deliver({ type: 'trellis:collect', id: 2, view: 'stats' });
    deliver({ type: 'trellis:collect', id: 3, view: 'metrics' });
    await settle();
    // Each answer goes as soon as its view is done; the primary matches them by id.
    const answers = sent
      .slice(-2)
      .sort((a, b) => ((a as { id: number }).id < (b as { id: number }).id ? -1 : 1));
    expect(answers).toEqual([
      { type: 'trellis:collected', id: 2, status: 200, body: { requests_total: 3 } },
      { type: 'trellis:collected', id: 3, status: 500, body: { error: 'registry broken' } },
    ]);
  });

  it('drains once when the primary says so, however often it says it', () => {
    const { link, deliver, drains, serveOptions } = setup();
    void link.start();
    link.serve(serveOptions);
    deliver({ type: 'trellis:drain' });
    deliver({ type: 'trellis:drain' });
    expect(drains).toEqual(['drain']);
  });

  it('exits without draining when told to stop before it listens', () => {
    const { link, deliver, drains, exitedBeforeServing } = setup();
    void link.start();
    deliver({ type: 'trellis:drain' });
    expect([exitedBeforeServing(), drains.length]).toEqual([1, 0]);
  });

  it('drains right after serving when the stop came during start-up', async () => {
    const { link, deliver, drains, serveOptions, exitedBeforeServing } = setup();
    void link.start();
    deliver({ type: 'trellis:snapshot', snapshot: wire(buildSnapshot([service('a')], 1)) });
    deliver({ type: 'trellis:drain' });
    link.serve(serveOptions);
    expect(drains).toEqual([]);
    await Promise.resolve();
    expect([exitedBeforeServing(), drains]).toEqual([1, ['drain']]);
  });
});
