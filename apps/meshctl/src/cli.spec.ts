import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const repoRoot = new URL('../../../', import.meta.url).pathname;

async function cli(args: string[], cwd = repoRoot) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    cwd,
  });
  return { code, stdout, stderr };
}

describe('meshctl', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshctl-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints help and exits 0 with --help, 2 without a command', async () => {
    expect((await cli(['--help'])).code).toBe(0);
    const bare = await cli([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toContain('validate');
  });

  it('rejects an unknown command with exit 2', async () => {
    const result = await cli(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('meshctl: unknown command "frobnicate"');
  });

  it('validates the shipped examples', async () => {
    const result = await cli(['validate', 'examples']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^ok: \d+ documents\n$/);
  });

  it('reports warnings but still exits 0', async () => {
    const route = (name: string) =>
      `apiVersion: trellis.dev/v1alpha1\nkind: Route\nmetadata: {name: ${name}}\nspec: {hosts: [a.example.com], directResponse: {status: 200}}\n`;
    await writeFile(join(dir, 'overlap.yaml'), `${route('one')}---\n${route('two')}`);
    const result = await cli(['validate', 'overlap.yaml'], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('overlap.yaml:');
    expect(result.stdout).toContain('warning: ');
    expect(result.stdout).toMatch(/ok: 2 documents \(1 warning\)\n$/);
  });

  it('reports every error as JSON with -o json and exits 1', async () => {
    await writeFile(
      join(dir, 'bad.yaml'),
      'apiVersion: trellis.dev/v1alpha1\nkind: Service\nmetadata: {name: x}\nspec: {ports: []}\n',
    );
    const result = await cli(['validate', '-o', 'json', 'bad.yaml'], dir);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      documents: number;
      errors: { path: string; document: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.documents).toBe(1);
    expect(report.errors.map((e) => [e.document, e.path])).toEqual([['service/x', 'spec.ports']]);
  });

  it('needs at least one path', async () => {
    const result = await cli(['validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('give at least one file or folder');
  });
});
