// Standalone and edge mode: config from a file (or folder) on disk instead of the control
// plane. Reloaded on change and on SIGHUP; a reload that fails to read, parse or validate is
// reported and changes nothing.
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { buildSnapshot, loadConfig } from '@trellis/config';
import { readConfigPaths, watchTree } from '@trellis/config-files';
import type { TreeWatcher } from '@trellis/config-files';
import type { ApplyResult, ConfigHolder } from './config-holder.js';

export type ReloadOutcome = ApplyResult;

export interface StaticConfigOptions {
  /** Quiet time after a file-system event before reloading (editors save in bursts). */
  readonly settleMs?: number;
  readonly onReload?: (outcome: ReloadOutcome, trigger: 'start' | 'change' | 'signal') => void;
}

export class StaticConfig<R> {
  readonly #path: string;
  readonly #holder: ConfigHolder<R>;
  readonly #options: StaticConfigOptions;
  #watcher: TreeWatcher | undefined;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #lastText: string | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  readonly #onSignal = () => void this.reload('signal');

  constructor(path: string, holder: ConfigHolder<R>, options: StaticConfigOptions = {}) {
    this.#path = resolve(path);
    this.#holder = holder;
    this.#options = options;
  }

  /** Loads the file once and starts watching it; resolves with the first outcome. */
  async start(): Promise<ReloadOutcome> {
    const outcome = await this.reload('start');
    const isFolder = await stat(this.#path).then(
      (info) => info.isDirectory(),
      () => false,
    );
    // A file is watched through its parent folder: editors and `kubectl cp` replace files by
    // rename, which a watch on the file itself would lose. Only its own name counts, so a log
    // written beside it does not trigger a reload per line.
    const name = basename(this.#path);
    const watcher = await watchTree(
      isFolder ? this.#path : dirname(this.#path),
      () => {
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => void this.reload('change'), this.#options.settleMs ?? 50);
      },
      () => undefined,
      isFolder ? {} : { recursive: false, relevant: (changed) => changed === name },
    );
    if (this.#stopped) watcher.close();
    else this.#watcher = watcher;
    process.on('SIGHUP', this.#onSignal);
    return outcome;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#watcher?.close();
    process.off('SIGHUP', this.#onSignal);
  }

  /** Reloads now; reloads never overlap. A file whose text did not change is not re-applied. */
  reload(trigger: 'start' | 'change' | 'signal'): Promise<ReloadOutcome> {
    const next = this.#chain.then(() => this.#load(trigger));
    this.#chain = next.catch(() => undefined);
    return next;
  }

  async #load(trigger: 'start' | 'change' | 'signal'): Promise<ReloadOutcome> {
    const read = await readConfigPaths([this.#path], dirname(this.#path));
    const text = read.files.map((f) => `${f.file}\n${f.text}`).join('\n');
    if (trigger === 'change' && read.issues.length === 0 && text === this.#lastText) {
      const current = this.#holder.current;
      if (current) return { accepted: true, version: current.snapshot.version };
    }
    const loaded = loadConfig(read.files);
    const issues = [...read.issues, ...loaded.issues];
    let outcome: ReloadOutcome;
    const current = this.#holder.current?.snapshot;
    if (issues.some((i) => i.severity === 'error')) {
      outcome = this.#holder.reject((current?.version ?? 0) + 1, issues);
    } else {
      const snapshot = buildSnapshot(loaded.resources, (current?.version ?? 0) + 1);
      // Same content as the config in force (a touch, a SIGHUP): no new version.
      outcome =
        current?.hash === snapshot.hash
          ? { accepted: true, version: current.version }
          : this.#holder.apply(snapshot);
      if (outcome.accepted) this.#lastText = text;
    }
    this.#options.onReload?.(outcome, trigger);
    return outcome;
  }
}
