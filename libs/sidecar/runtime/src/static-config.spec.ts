import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Snapshot } from '@trellis/config';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigHolder } from './config-holder.js';
import { StaticConfig } from './static-config.js';
import type { ReloadOutcome } from './static-config.js';

const service = (name: string, port = 8080) =>
  `apiVersion: trellis.dev/v1alpha1\nkind: Service\nmetadata: {name: ${name}}\nspec:\n  ports: [{port: ${port}}]\n`;

describe('StaticConfig', () => {
  let dir: string;
  let file: string;
  let config: StaticConfig<Snapshot> | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-static-config-'));
    file = join(dir, 'mesh.yaml');
  });
  afterEach(async () => {
    config?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const names = (holder: ConfigHolder<Snapshot>) =>
    holder.current?.snapshot.resources.map((r) => r.metadata.name);

  it('loads the file at start as version 1', async () => {
    await writeFile(file, service('a'));
    const holder = new ConfigHolder((s: Snapshot) => s);
    config = new StaticConfig(file, holder);
    expect(await config.start()).toEqual({ accepted: true, version: 1 });
    expect(names(holder)).toEqual(['a']);
  });

  it('does not re-read its file for writes to other files beside it', async () => {
    await writeFile(file, service('a'));
    const triggers: string[] = [];
    config = new StaticConfig(file, new ConfigHolder((s: Snapshot) => s), {
      settleMs: 1,
      onReload: (_outcome, trigger) => triggers.push(trigger),
    });
    await config.start();
    for (let i = 0; i < 5; i++) await writeFile(join(dir, 'sidecar.log'), `${i}\n`, { flag: 'a' });
    await writeFile(join(dir, 'other.yaml'), service('b'));
    // fs.watch delivers within milliseconds; a quiet 100 ms means no reload came.
    await new Promise((r) => setTimeout(r, 100));
    expect(triggers).toEqual(['start']);
  });

  it('reports a missing file at start without applying anything', async () => {
    const holder = new ConfigHolder((s: Snapshot) => s);
    config = new StaticConfig(file, holder);
    const outcome = await config.start();
    expect(outcome.accepted).toBe(false);
    expect(!outcome.accepted && outcome.issues[0]?.message).toBe(
      'cannot read mesh.yaml: no such file or directory',
    );
    expect(holder.current).toBeUndefined();
  });

  it('keeps the last good config when a reload is invalid, then takes the next valid one', async () => {
    await writeFile(file, service('a'));
    const holder = new ConfigHolder((s: Snapshot) => s);
    config = new StaticConfig(file, holder);
    await config.start();
    await writeFile(file, service('a', 99999));
    const rejected = await config.reload('signal');
    expect(rejected.accepted).toBe(false);
    expect(!rejected.accepted && rejected.issues.map((i) => i.path)).toEqual([
      'spec.ports[0].port',
    ]);
    expect(holder.current?.snapshot.version).toBe(1);
    await writeFile(file, service('b'));
    expect(await config.reload('signal')).toEqual({ accepted: true, version: 2 });
    expect(names(holder)).toEqual(['b']);
  });

  it('does not make a new version when the content is unchanged', async () => {
    await writeFile(file, service('a'));
    const holder = new ConfigHolder((s: Snapshot) => s);
    config = new StaticConfig(file, holder);
    await config.start();
    expect(await config.reload('signal')).toEqual({ accepted: true, version: 1 });
    expect(holder.current?.snapshot.version).toBe(1);
  });

  it('reloads by itself when the file is replaced atomically (rename)', async () => {
    await writeFile(file, service('a'));
    const holder = new ConfigHolder((s: Snapshot) => s);
    const outcomes: ReloadOutcome[] = [];
    let notify: () => void = () => undefined;
    const changed = new Promise<void>((resolve) => (notify = resolve));
    config = new StaticConfig(file, holder, {
      settleMs: 10,
      onReload: (outcome, trigger) => {
        outcomes.push(outcome);
        if (trigger === 'change' && outcome.accepted && outcome.version === 2) notify();
      },
    });
    await config.start();
    await writeFile(join(dir, '.mesh.yaml.tmp'), service('c'));
    await rename(join(dir, '.mesh.yaml.tmp'), file);
    await changed;
    expect(names(holder)).toEqual(['c']);
  });
});
