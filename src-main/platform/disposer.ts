// Cleanup registry for one app instance (web mode, desktop, tests): services register what must
// be stopped on shutdown (child processes, open ports) and the host runs it all once.

/** Collects onDispose callbacks and runs them all (each failure is ignored, all run). */
export function createDisposer(): { onDispose: (dispose: () => Promise<void> | void) => void; dispose(): Promise<void> } {
  const list: (() => Promise<void> | void)[] = [];
  return {
    onDispose: (fn) => void list.push(fn),
    async dispose() {
      await Promise.allSettled(list.splice(0).reverse().map(async (fn) => fn()));
    },
  };
}
