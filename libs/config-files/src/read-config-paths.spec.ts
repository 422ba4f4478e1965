import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isConfigFileName, readConfigPaths } from './read-config-paths.js';

describe('readConfigPaths', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-config-files-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('walks folders recursively in sorted order, reading only YAML files', async () => {
    await mkdir(join(dir, 'b'));
    await writeFile(join(dir, 'b', 'two.yml'), 'two');
    await writeFile(join(dir, 'a.yaml'), 'one');
    await writeFile(join(dir, 'notes.txt'), 'ignored');
    await writeFile(join(dir, '.hidden.yaml'), 'ignored');
    const result = await readConfigPaths([dir], dir);
    expect(result.issues).toEqual([]);
    expect(result.files).toEqual([
      { file: 'a.yaml', text: 'one' },
      { file: join('b', 'two.yml'), text: 'two' },
    ]);
  });

  it('reads an explicitly named file whatever its extension', async () => {
    await writeFile(join(dir, 'config.txt'), 'kind: Service');
    const result = await readConfigPaths([join(dir, 'config.txt')], dir);
    expect(result.files).toEqual([{ file: 'config.txt', text: 'kind: Service' }]);
  });

  it('reports a missing path as an issue with the file name, and keeps reading the rest', async () => {
    await writeFile(join(dir, 'ok.yaml'), 'ok');
    const result = await readConfigPaths([join(dir, 'missing.yaml'), join(dir, 'ok.yaml')], dir);
    expect(result.files).toEqual([{ file: 'ok.yaml', text: 'ok' }]);
    expect(result.issues).toEqual([
      {
        severity: 'error',
        code: 'TRL_CFG_READ',
        message: 'cannot read missing.yaml: no such file or directory',
      },
    ]);
  });

  it('reports a folder without YAML files', async () => {
    const result = await readConfigPaths([dir], dir);
    expect(result.issues.map((i) => i.message)).toEqual([`no .yaml or .yml files found in ${dir}`]);
  });

  it('shows paths outside the base folder as given', async () => {
    const result = await readConfigPaths(['/nonexistent/x.yaml'], dir);
    expect(result.issues[0]?.message).toBe(
      'cannot read /nonexistent/x.yaml: no such file or directory',
    );
  });
});

describe('isConfigFileName', () => {
  it('accepts .yaml and .yml, rejects hidden files and other extensions', () => {
    expect(isConfigFileName('a.yaml')).toBe(true);
    expect(isConfigFileName('a.yml')).toBe(true);
    expect(isConfigFileName('.a.yaml')).toBe(false);
    expect(isConfigFileName('a.yaml~')).toBe(false);
    expect(isConfigFileName('a.json')).toBe(false);
  });
});
