// The Nx project graph keeps the architecture honest: apps depend on libs, never the reverse,
// and no app depends on another app. The one other project, scripts/ (tag type:tooling), is the
// repository's tooling: the apps' bin shims launch their built bundle through it, and nothing
// else may depend on it.
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from './run.js';

interface Graph {
  graph: {
    nodes: Record<string, { type: string; data: { root: string; tags?: string[] } }>;
    dependencies: Record<string, { target: string }[]>;
  };
}

describe('workspace graph', () => {
  it('has apps depending on libs (and tooling) only, and libs never on apps or tooling', async () => {
    const file = join(tmpdir(), `trellis-graph-${process.pid}.json`);
    const result = await run('npx', ['--no-install', 'nx', 'graph', `--file=${file}`], {
      timeoutMs: 120_000,
    });
    expect(result.code).toBe(0);
    const { graph } = JSON.parse(await readFile(file, 'utf8')) as Graph;
    await rm(file, { force: true });
    const kind = (name: string) => {
      const node = graph.nodes[name];
      if (node?.data.root.startsWith('libs/')) return 'lib';
      return node?.data.tags?.includes('type:tooling') ? 'tooling' : 'app';
    };
    const edges = Object.entries(graph.dependencies).flatMap(([source, deps]) =>
      deps
        .filter((d) => graph.nodes[d.target])
        .map((d) => `${kind(source)}:${source} -> ${kind(d.target)}:${d.target}`),
    );
    expect(edges.length).toBeGreaterThan(0);
    const wrong = edges.filter(
      (e) => !/-> lib:/.test(e) && !/^app:.* -> tooling:/.test(e) && !e.startsWith('app:e2e'),
    );
    expect(wrong).toEqual([]);
    expect(Object.keys(graph.nodes)).toEqual(
      expect.arrayContaining(['config', 'meshctl', 'sidecar', 'control-plane']),
    );
  });
});
