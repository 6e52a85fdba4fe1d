// The small service ports every Tributary package accepts. Libraries never pick a logger or a
// metrics backend: the broker app injects pino and prom-client; tests inject fakes.

export type LogFn = {
  (msg: string): void;
  (obj: object, msg?: string): void;
};

/** pino's shape, so a pino logger can be passed as it is. */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const noop = (): void => {};

export const silentLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};

export type MetricLabels = Readonly<Record<string, string | number>>;

/**
 * Metrics by name. The broker app maps names to prom-client instruments; the default does nothing.
 * Names use Prometheus conventions (`tributary_requests_total`).
 */
export interface Metrics {
  increment(name: string, labels?: MetricLabels, value?: number): void;
  observe(name: string, value: number, labels?: MetricLabels): void;
  set(name: string, value: number, labels?: MetricLabels): void;
}

export const noopMetrics: Metrics = { increment: noop, observe: noop, set: noop };

export interface TimerHandle {
  cancel(): void;
}

/** Time, injected so tests move it instead of sleeping. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Milliseconds from an arbitrary origin with sub-millisecond resolution, never going back: for
   * measuring durations (request latency), not for timestamps.
   */
  monotonic(): number;
  /** Runs `fn` after `ms`; the handle cancels it. Timers must not keep the process alive. */
  schedule(ms: number, fn: () => void): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  schedule(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** A clock tests advance by hand. */
export class ManualClock implements Clock {
  private time: number;
  private timers: { at: number; fn: () => void; cancelled: boolean }[] = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /** Moves with `now()`: durations measured against a manual clock are the time advanced. */
  monotonic(): number {
    return this.time;
  }

  schedule(ms: number, fn: () => void): TimerHandle {
    const timer = { at: this.time + Math.max(0, ms), fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Moves time forward, running due timers in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.time = Math.max(this.time, due.at);
      due.cancelled = true;
      due.fn();
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
    this.time = end;
  }
}
