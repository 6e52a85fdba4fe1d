// Waiting on real clients, which act on their own timers: poll a condition, bounded in time.

/** Resolves once `check()` holds; throws after `timeoutMs` naming what it waited for. */
export async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
