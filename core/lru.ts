// A map that remembers the order of use: get/set/touch/delete and the oldest entry in O(1).
// (A JS Map reordered by delete+set keeps tombstones at its head; iterating from there to
// find the oldest entry then costs more with every eviction: a flood makes that quadratic.)

interface Node<K, V> {
  key: K;
  value: V;
  prev: Node<K, V> | null;
  next: Node<K, V> | null;
}

export class LruMap<K, V> {
  private readonly map = new Map<K, Node<K, V>>();
  private head: Node<K, V> | null = null; // oldest
  private tail: Node<K, V> | null = null; // newest

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  /** The value, marked as just used: get() and touch() with one lookup (a flood's hot path). */
  use(key: K): V | undefined {
    const n = this.map.get(key);
    if (n && n !== this.tail) {
      this.unlink(n);
      n.prev = this.tail;
      n.next = null;
      this.tail!.next = n;
      this.tail = n;
    }
    return n?.value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Inserts or replaces, as the newest. */
  set(key: K, value: V): void {
    const n = this.map.get(key);
    if (n) {
      n.value = value;
      this.use(key);
      return;
    }
    const node: Node<K, V> = { key, value, prev: this.tail, next: null };
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.map.set(key, node);
  }

  /** Marks an entry as just used. */
  touch(key: K): void {
    this.use(key);
  }

  delete(key: K): boolean {
    const n = this.map.get(key);
    if (!n) return false;
    this.unlink(n);
    this.map.delete(key);
    return true;
  }

  /** The least recently used entry. */
  oldest(): [K, V] | undefined {
    return this.head ? [this.head.key, this.head.value] : undefined;
  }

  /** Values from the oldest to the newest. */
  *values(): Generator<V> {
    for (let n = this.head; n; n = n.next) yield n.value;
  }

  private unlink(n: Node<K, V>): void {
    if (n.prev) n.prev.next = n.next;
    else this.head = n.next;
    if (n.next) n.next.prev = n.prev;
    else this.tail = n.prev;
  }
}
