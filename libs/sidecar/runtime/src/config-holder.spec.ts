import { buildSnapshot, ConfigError } from '@trellis/config';
import type { Resource, Snapshot } from '@trellis/config';
import { describe, expect, it } from 'vitest';
import { ConfigHolder } from './config-holder.js';

const service = (name: string): Resource =>
  ({
    apiVersion: 'trellis.dev/v1alpha1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { ports: [{ port: 8080, protocol: 'http1' }] },
  }) as Resource;

const snapshot = (version: number, name = 'a'): Snapshot => buildSnapshot([service(name)], version);

describe('ConfigHolder', () => {
  it('builds the runtime aside and swaps it in, keeping the previous object for in-flight users', () => {
    const holder = new ConfigHolder((s: Snapshot) => ({ version: s.version }));
    expect(holder.apply(snapshot(1))).toEqual({ accepted: true, version: 1 });
    const inFlight = holder.current?.runtime;
    expect(holder.apply(snapshot(2, 'b'))).toEqual({ accepted: true, version: 2 });
    expect(inFlight).toEqual({ version: 1 });
    expect(holder.current?.runtime).toEqual({ version: 2 });
  });

  it('passes the previous runtime to the builder so state can carry over', () => {
    const seen: (number | undefined)[] = [];
    const holder = new ConfigHolder((s: Snapshot, prev: number | undefined) => {
      seen.push(prev);
      return s.version;
    });
    holder.apply(snapshot(1));
    holder.apply(snapshot(2));
    expect(seen).toEqual([undefined, 1]);
  });

  it('keeps the last good config when the build fails, and reports the issues', () => {
    const holder = new ConfigHolder((s: Snapshot) => {
      if (s.version === 2) {
        throw new ConfigError('bad', [
          {
            severity: 'error',
            code: 'TRL_CFG_SCHEMA',
            document: 'route/x',
            path: 'spec',
            message: 'is required',
          },
        ]);
      }
      return s.version;
    });
    holder.apply(snapshot(1));
    const result = holder.apply(snapshot(2));
    expect(result.accepted).toBe(false);
    expect(!result.accepted && result.issues[0]?.message).toBe('is required');
    expect(holder.current?.snapshot.version).toBe(1);
    expect(holder.lastRejection?.version).toBe(2);
  });

  it('turns an unexpected build exception into a rejection, never a crash', () => {
    const holder = new ConfigHolder((): number => {
      throw new TypeError('boom');
    });
    const result = holder.apply(snapshot(1));
    expect(result).toEqual({
      accepted: false,
      version: 1,
      issues: [{ severity: 'error', code: 'TRL_CFG_BUILD_FAILED', message: 'boom' }],
    });
    expect(holder.current).toBeUndefined();
  });

  it('rejects a version that is not newer than the one in force', () => {
    const holder = new ConfigHolder((s: Snapshot) => s.version);
    holder.apply(snapshot(5));
    const result = holder.apply(snapshot(5, 'b'));
    expect(result.accepted).toBe(false);
    expect(!result.accepted && result.issues[0]?.code).toBe('TRL_CFG_STALE_VERSION');
    expect(holder.current?.snapshot.resources[0]?.metadata.name).toBe('a');
  });

  it('notifies listeners after each accepted swap only', () => {
    const holder = new ConfigHolder((s: Snapshot) => {
      if (s.version === 2) throw new Error('no');
      return s.version;
    });
    const versions: number[] = [];
    holder.onApplied((a) => versions.push(a.snapshot.version));
    holder.apply(snapshot(1));
    holder.apply(snapshot(2));
    holder.apply(snapshot(3));
    expect(versions).toEqual([1, 3]);
  });
});
