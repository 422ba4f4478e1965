// Raw counters of one sidecar, for the admin /stats view. Each name is listed once here.
// (Prometheus metrics with labels build on the same events.)

export const SIDECAR_COUNTERS = [
  'requests_total',
  'responses_2xx',
  'responses_3xx',
  'responses_4xx',
  'responses_5xx',
  'local_responses',
  'retries_total',
  // Mirrored copies sent; copies dropped (body over the replay limit or unfinished, mirror
  // limits full, no endpoint, no answer within the copy's timeout); copies that failed
  // (5xx answer, connect failure, reset).
  'mirror_requests',
  'mirror_dropped',
  'mirror_failed',
  'client_aborts',
  'upstream_body_errors',
  'bad_requests',
  'internal_errors',
  'config_applied',
  'config_rejected',
] as const;

export type SidecarCounter = (typeof SIDECAR_COUNTERS)[number];

export class SidecarStats {
  readonly #counters = new Map<string, number>(SIDECAR_COUNTERS.map((name) => [name, 0]));

  increment(name: SidecarCounter, by = 1): void {
    this.#counters.set(name, (this.#counters.get(name) ?? 0) + by);
  }

  /** Counts a proxy-made answer under its `x-trellis-error` value. */
  incrementLocal(errorValue: string): void {
    const name = `local_responses.${errorValue}`;
    this.#counters.set(name, (this.#counters.get(name) ?? 0) + 1);
    this.increment('local_responses');
  }

  get(name: string): number {
    return this.#counters.get(name) ?? 0;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.#counters.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}
