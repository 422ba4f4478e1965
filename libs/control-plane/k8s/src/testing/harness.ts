// Test harness: the recorded cluster fixtures, a fake API server seeded with them, a kubeconfig
// pointing at it, and a recorder of the source's states and log lines with bounded waits.
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { waitFor } from '@trellis/testing';
import { FakeClock } from '@trellis/time';
import { kubernetesSource } from '../kubernetes-source.js';
import type { KubernetesSourceOptions } from '../kubernetes-source.js';
import type { KubernetesSourceState } from '../source-state.js';
import { FakeApiServer } from './fake-api-server.js';
import type { KubeList, KubeObject } from './fake-api-server.js';

export const FIXTURE_PLURALS = [
  'services',
  'endpointslices',
  'pods',
  'routes',
  'destinationpolicies',
  'ratelimits',
  'retrybudgets',
  'telemetries',
] as const;

/** A recorded list response from ../../fixtures (`kubectl get --raw` shape). */
export function fixture(plural: (typeof FIXTURE_PLURALS)[number]): KubeList {
  const url = new URL(`../../fixtures/${plural}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as KubeList;
}

/** One object of a fixture list, as a fresh copy to modify. */
export function fixtureObject(
  plural: (typeof FIXTURE_PLURALS)[number],
  namespace: string,
  name: string,
): KubeObject {
  const found = fixture(plural).items.find(
    (o) => o.metadata.name === name && o.metadata.namespace === namespace,
  );
  if (found === undefined) throw new Error(`no ${plural} ${namespace}/${name} in the fixtures`);
  return structuredClone(found);
}

export async function startFixtureServer(): Promise<FakeApiServer> {
  const server = await FakeApiServer.start();
  for (const plural of FIXTURE_PLURALS) server.load(plural, fixture(plural));
  return server;
}

/** Plain HTTP, no credentials: what `KubeConfig.loadFromOptions` needs for the fake server. */
export function kubeConfigFor(url: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'test' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'test' }],
    currentContext: 'fake',
  });
  return kubeConfig;
}

export interface LogLine {
  readonly level: 'info' | 'warn';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

const WAIT_MS = 5_000;

/** Runs a source against `url` on a FakeClock (no jitter) and records what it emits and logs. */
export class SourceRecorder {
  readonly clock = new FakeClock();
  readonly states: KubernetesSourceState[] = [];
  readonly logs: LogLine[] = [];
  readonly #stop: () => void;

  constructor(url: string, options: Partial<KubernetesSourceOptions> = {}) {
    const source = kubernetesSource({
      kubeConfig: kubeConfigFor(url),
      clock: this.clock,
      relistBackoff: { initialMs: 100, maxMs: 1_000, random: () => 0 },
      logger: {
        info: (fields, message) =>
          this.logs.push({ level: 'info', fields: fields as Record<string, unknown>, message }),
        warn: (fields, message) =>
          this.logs.push({ level: 'warn', fields: fields as Record<string, unknown>, message }),
      },
      ...options,
    });
    const subscription = source.states().subscribe((state) => this.states.push(state));
    this.#stop = () => subscription.unsubscribe();
  }

  get latest(): KubernetesSourceState | undefined {
    return this.states[this.states.length - 1];
  }

  /** The first state emitted after the `after`-th one that satisfies `predicate`. */
  nextState(
    what: string,
    predicate: (state: KubernetesSourceState) => boolean,
    after = 0,
  ): Promise<KubernetesSourceState> {
    return waitFor(() => this.states.slice(after).find(predicate), {
      timeoutMs: WAIT_MS,
      intervalMs: 5,
      what,
    });
  }

  /** Waits until `count` warn lines about `resource` were logged; returns them. */
  warnings(resource: string, count: number): Promise<LogLine[]> {
    return waitFor(
      () => {
        const lines = this.logs.filter(
          (l) => l.level === 'warn' && l.fields['resource'] === resource,
        );
        return lines.length >= count ? lines : undefined;
      },
      { timeoutMs: WAIT_MS, intervalMs: 5, what: `${count} warnings about ${resource}` },
    );
  }

  stop(): void {
    this.#stop();
  }
}

/** Waits for a condition on the fake server (requests seen, watches open). */
export function until<T>(what: string, probe: () => T | undefined | false): Promise<T> {
  return waitFor(probe, { timeoutMs: WAIT_MS, intervalMs: 5, what });
}

/** The value of the document with that file, or undefined. */
export function documentValue(state: KubernetesSourceState, file: string): unknown {
  return state.documents.find((d) => d.file === file)?.value;
}
