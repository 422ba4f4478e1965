// Bounds the distinct label sets of one metric. Route and destination values come from config,
// so they are bounded per snapshot, but config churns (generated routes, many services) and
// every set a Prometheus client has seen stays in memory and in every scrape. Past the cap,
// callers fold the config-derived labels into one overflow value instead of adding series.

export class LabelSetCap {
  readonly #seen = new Set<string>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** True when `key` is already held or there is room for it (it is then held). */
  admit(key: string): boolean {
    if (this.#seen.has(key)) return true;
    if (this.#seen.size >= this.#max) return false;
    this.#seen.add(key);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }
}
