// FIFO of requests waiting for a connection: O(1) push and shift on a growing array with a head
// index (compacted as it drains); removal of an aborted request blanks its slot.

export class RequestQueue<T extends object> {
  #items: (T | null)[] = [];
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    this.#items.push(item);
    this.#size++;
  }

  /** The oldest waiting item, or null when none waits. */
  shift(): T | null {
    if (this.#size === 0) return null;
    const items = this.#items;
    while (this.#head < items.length) {
      const item = items[this.#head];
      items[this.#head++] = null;
      if (item != null) {
        this.#size--;
        this.#compact();
        return item;
      }
    }
    return null;
  }

  /** Takes `item` out wherever it waits; false when it was not queued. */
  remove(item: T): boolean {
    const at = this.#items.indexOf(item, this.#head);
    if (at < 0) return false;
    this.#items[at] = null;
    this.#size--;
    if (this.#size === 0) this.#compact();
    return true;
  }

  #compact(): void {
    if (this.#size === 0) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
