// Earliest-deadline-first weighted scheduler (Envoy's weighted round-robin): the k-th turn of an
// entry of weight w is due at k / w; the earliest goes next, ties to the lower index. Deadlines are
// computed as (turns + 1) / weight rather than accumulated, so equal fractions compare equal and
// any Σweights consecutive picks serve each entry exactly `weight` times. O(log n) per pick over a
// binary heap in typed arrays, no allocation.

export class EdfScheduler {
  readonly #weight: Float64Array;
  readonly #turns: Float64Array;
  readonly #deadline: Float64Array;
  readonly #heap: Uint32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    this.#weight = Float64Array.from(weights);
    this.#turns = new Float64Array(n);
    this.#deadline = new Float64Array(n);
    this.#heap = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      this.#deadline[i] = 1 / (weights[i] as number);
      this.#heap[i] = i;
    }
    for (let i = (n >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  /** Index of the next entry to serve. */
  next(): number {
    const top = this.#heap[0] as number;
    const turns = (this.#turns[top] as number) + 1;
    this.#turns[top] = turns;
    this.#deadline[top] = (turns + 1) / (this.#weight[top] as number);
    this.#siftDown(0);
    return top;
  }

  #before(a: number, b: number): boolean {
    const da = this.#deadline[a] as number;
    const db = this.#deadline[b] as number;
    return da < db || (da === db && a < b);
  }

  #siftDown(from: number): void {
    const heap = this.#heap;
    const n = heap.length;
    let i = from;
    const item = heap[i] as number;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && this.#before(heap[right] as number, heap[left] as number)) child = right;
      if (!this.#before(heap[child] as number, item)) break;
      heap[i] = heap[child] as number;
      i = child;
    }
    heap[i] = item;
  }
}
