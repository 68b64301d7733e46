// A Map that keeps only the most recently used `capacity` entries: for what services hold in memory
// by id for the session (runs, data sets, opened models), so a long session does not grow without
// bound. `onEvict` lets the owner keep a light summary of what it drops.
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly capacity: number, private readonly onEvict?: (key: K, value: V) => void) {}

  get size(): number {
    return this.map.size;
  }
  has(key: K): boolean {
    return this.map.has(key);
  }
  /** The value, marked as most recently used. */
  get(key: K): V | undefined {
    if (!this.map.has(key)) return undefined;
    const v = this.map.get(key)!;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }
  set(key: K, value: V): this {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) {
      const [k, v] = this.map.entries().next().value as [K, V];
      this.map.delete(k);
      this.onEvict?.(k, v);
    }
    return this;
  }
  delete(key: K): boolean {
    return this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
  }
  /** Oldest first, without touching recency. */
  values(): IterableIterator<V> {
    return this.map.values();
  }
  keys(): IterableIterator<K> {
    return this.map.keys();
  }
}
