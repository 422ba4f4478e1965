// `meshctl validate` as a user runs it: the built binary through npx, from the repo root.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './run.js';

const meshctl = (...args: string[]) => run('npx', ['--no-install', 'meshctl', ...args]);

describe('meshctl validate (built binary)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-e2e-validate-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts the shipped examples with exit 0', async () => {
    const result = await meshctl('validate', 'examples/');
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^ok: \d+ documents\n$/);
    expect(result.code).toBe(0);
  });

  it('lists every error with file, line, document and field path, and exits 1', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      [
        'apiVersion: trellis.dev/v1alpha1',
        'kind: Service',
        'metadata: {name: pricing}',
        'spec:',
        '  ports: [{port: 8080, protocol: http1}]',
        '---',
        'apiVersion: trellis.dev/v1alpha1',
        'kind: Route',
        'metadata: {name: checkout}',
        'spec:',
        '  hosts: [pricing]',
        '  destinations: [{service: pricing}]',
        '  retries:',
        '    attempts: 50',
        '  timeout: fast',
        '',
      ].join('\n'),
    );
    const result = await meshctl('validate', file);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `${file}:14:15: route/checkout: spec.retries.attempts: must be ≤ 10 (got 50)`,
    );
    expect(result.stdout).toContain(
      `${file}:15:12: route/checkout: spec.timeout: must be a duration like 250ms, 1.5s or 2m (got "fast")`,
    );
    expect(result.stdout).toMatch(/invalid: 2 errors, 0 warnings in 2 documents\n$/);
    expect(result.stderr).toBe('');
  });

  it('reports YAML syntax errors and unreadable paths with file and line, never a stack trace', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'kind: Service\nmetadata: [unclosed\n');
    const result = await meshctl('validate', file, join(dir, 'missing.yaml'));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^${file}:\\d+:\\d+: `, 'm'));
    expect(result.stdout).toContain(
      `cannot read ${join(dir, 'missing.yaml')}: no such file or directory`,
    );
    expect(result.stdout + result.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints the same report as JSON with -o json', async () => {
    const result = await meshctl('validate', '-o', 'json', 'examples/');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      documents: number;
      errors: unknown[];
    };
    expect(report.ok).toBe(true);
    expect(report.documents).toBeGreaterThan(5);
    expect(report.errors).toEqual([]);
  });

  it('rejects a bad command line with exit 2 and the usage', async () => {
    const result = await meshctl('validate', '-o', 'xml', 'examples/');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--output must be text or json (got "xml")');
    expect(result.stderr).toContain('Usage: meshctl validate');
  });
});
