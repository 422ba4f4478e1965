import { parseDocuments } from '@trellis/config';
import { Subject, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ConfigSource, SourceState } from '@trellis/control-plane-sources';
import { compilePipeline, compileStates } from './compile-pipeline.js';
import type { CompileResult } from './compile-pipeline.js';

const service = (name: string, port = 8080) =>
  `apiVersion: trellis.dev/v1alpha1\nkind: Service\nmetadata: {name: ${name}}\nspec:\n  ports: [{port: ${port}}]\n`;

function state(text: string): SourceState {
  const parsed = parseDocuments(text, 'test.yaml');
  return { source: 'test', documents: parsed.documents, issues: parsed.issues };
}

describe('compileStates', () => {
  it('publishes version 1 from a valid set, and lastVersion + 1 after a restart', () => {
    const first = compileStates([state(service('a'))], undefined, 0);
    expect(first.published).toBe(true);
    expect(first.snapshot?.version).toBe(1);
    expect(first.diff?.added).toHaveLength(1);
    expect(compileStates([state(service('a'))], undefined, 41).snapshot?.version).toBe(42);
  });

  it('keeps the last good snapshot when the new set has errors, and reports them', () => {
    const good = compileStates([state(service('a'))], undefined, 0);
    const bad = compileStates([state(service('a', 70000))], good.snapshot, 0);
    expect(bad.published).toBe(false);
    expect(bad.snapshot).toBe(good.snapshot);
    expect(bad.issues.map((i) => i.path)).toEqual(['spec.ports[0].port']);
  });

  it('does not publish a new version when the content did not change', () => {
    const good = compileStates([state(service('a'))], undefined, 0);
    const again = compileStates([state(service('a'))], good.snapshot, 0);
    expect(again.published).toBe(false);
    expect(again.snapshot?.version).toBe(1);
  });

  it('merges the documents of every source and reports issues of each', () => {
    const result = compileStates(
      [state(service('a')), state(`${service('b')}---\nkind: [\n`)],
      undefined,
      0,
    );
    expect(result.published).toBe(false);
    expect(result.issues.some((i) => i.code === 'TRL_CFG_YAML')).toBe(true);
  });
});

describe('compilePipeline', () => {
  it('debounces a burst into one compilation after the quiet time (the default)', () => {
    const scheduler = new VirtualTimeScheduler();
    const states = new Subject<SourceState>();
    const source: ConfigSource = { name: 'test', states: () => states };
    const results: CompileResult[] = [];
    compilePipeline([source], { debounceMs: 100, scheduler }).subscribe((r) => results.push(r));
    states.next(state(service('a')));
    states.next(state(service('b')));
    expect(results).toHaveLength(0);
    scheduler.flush();
    expect(results).toHaveLength(1);
    expect(results[0]?.snapshot?.resources.map((r) => r.metadata.name)).toEqual(['b']);
  });

  it('with leadingEdge, compiles the first change of a burst at once and the rest once, at its end', () => {
    const scheduler = new VirtualTimeScheduler();
    const states = new Subject<SourceState>();
    const source: ConfigSource = { name: 'test', states: () => states };
    const results: CompileResult[] = [];
    compilePipeline([source], { debounceMs: 100, leadingEdge: true, scheduler }).subscribe((r) =>
      results.push(r),
    );
    states.next(state(service('a')));
    expect(results.map((r) => r.snapshot?.version)).toEqual([1]);
    states.next(state(service('b')));
    states.next(state(`${service('b')}---\n${service('c')}`));
    expect(results).toHaveLength(1);
    scheduler.flush();
    expect(results.map((r) => r.snapshot?.version)).toEqual([1, 2]);
    expect(results[1]?.snapshot?.resources.map((r) => r.metadata.name)).toEqual(['b', 'c']);
  });
});
