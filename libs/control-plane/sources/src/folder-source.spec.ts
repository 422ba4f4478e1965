import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { folderSource, readFolderState } from './folder-source.js';

const service = (name: string) =>
  `apiVersion: trellis.dev/v1alpha1\nkind: Service\nmetadata: {name: ${name}}\nspec:\n  ports: [{port: 8080}]\n`;

describe('folderSource', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-folder-source-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads every document of the folder with its file name', async () => {
    await writeFile(join(dir, 'a.yaml'), `${service('a')}---\n${service('b')}`);
    const state = await readFolderState(dir, 'folder:test');
    expect(state.source).toBe('folder:test');
    expect(state.issues).toEqual([]);
    expect(state.documents).toHaveLength(2);
  });

  it('keeps good documents and reports a YAML syntax error with its file', async () => {
    await writeFile(join(dir, 'good.yaml'), service('good'));
    await writeFile(join(dir, 'bad.yaml'), 'kind: [unclosed\n');
    const state = await readFolderState(dir, 'folder:test');
    expect(state.documents).toHaveLength(1);
    expect(state.issues).toHaveLength(1);
    expect(state.issues[0]?.source?.file).toBe('bad.yaml');
    expect(state.issues[0]?.code).toBe('TRL_CFG_YAML');
  });

  it('emits the initial state, then a new complete state after a change', async () => {
    await writeFile(join(dir, 'a.yaml'), service('a'));
    const source = folderSource(dir, { settleMs: 10 });
    const states = firstValueFrom(source.states().pipe(take(2), toArray()));
    // Write once the watcher is running: after the first state has arrived.
    await firstValueFrom(source.states().pipe(filter((s) => s.documents.length === 1)));
    setTimeout(() => void writeFile(join(dir, 'b.yaml'), service('b')), 50);
    const [first, second] = await states;
    expect(first?.documents).toHaveLength(1);
    expect(second?.documents).toHaveLength(2);
  });

  it('fails the stream with a clear error when the folder does not exist', async () => {
    const source = folderSource(join(dir, 'missing'));
    await expect(firstValueFrom(source.states())).rejects.toThrow(
      `cannot watch ${join(dir, 'missing')}`,
    );
  });
});
