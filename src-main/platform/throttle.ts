// The one rate limit for progress and live updates (RPC progress, worker → service messages, live
// check windows): a tight loop must not flood a transport, yet some updates (an epoch record the UI
// charts, a job's last step) must arrive whatever the pace.

/**
 * Returns `pass(mustDeliver?)`: true when an update may go now, i.e. at least `intervalMs` after the
 * last one that passed, or always when `mustDeliver` is set. The caller sends only when it is true.
 */
export function createThrottle(intervalMs: number, clock: () => number = Date.now): (mustDeliver?: boolean) => boolean {
  let last = -Infinity;
  return (mustDeliver = false) => {
    const now = clock();
    if (!mustDeliver && now - last < intervalMs) return false;
    last = now;
    return true;
  };
}
