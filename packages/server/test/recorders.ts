// Logger and Metrics fakes that keep what they were given, for assertions.
import type { Logger, MetricLabels, Metrics } from '@tributary/core';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  readonly level: LogLevel;
  /** The child bindings and the logged object, merged as pino would print them. */
  readonly fields: Record<string, unknown>;
  readonly msg: string | undefined;
}

export class RecordingLogger implements Logger {
  readonly entries: LogEntry[];
  private readonly bindings: Record<string, unknown>;
  readonly trace = this.at('trace');
  readonly debug = this.at('debug');
  readonly info = this.at('info');
  readonly warn = this.at('warn');
  readonly error = this.at('error');

  constructor(entries: LogEntry[] = [], bindings: Record<string, unknown> = {}) {
    this.entries = entries;
    this.bindings = bindings;
  }

  child(bindings: Record<string, unknown>): Logger {
    return new RecordingLogger(this.entries, { ...this.bindings, ...bindings });
  }

  /** Entries at `level` whose fields include `match`. */
  find(level: LogLevel, match: Record<string, unknown> = {}): LogEntry[] {
    return this.entries.filter(
      (e) => e.level === level && Object.entries(match).every(([k, v]) => e.fields[k] === v),
    );
  }

  private at(level: LogLevel) {
    return (objOrMsg: object | string, msg?: string): void => {
      const own = typeof objOrMsg === 'string' ? {} : objOrMsg;
      this.entries.push({
        level,
        fields: { ...this.bindings, ...own },
        msg: typeof objOrMsg === 'string' ? objOrMsg : msg,
      });
    };
  }
}

export class RecordingMetrics implements Metrics {
  readonly counters = new Map<string, number>();
  readonly gauges = new Map<string, number>();
  readonly observations = new Map<string, number[]>();

  increment(name: string, labels?: MetricLabels, value = 1): void {
    const key = metricKey(name, labels);
    this.counters.set(key, (this.counters.get(key) ?? 0) + value);
  }

  observe(name: string, value: number, labels?: MetricLabels): void {
    const key = metricKey(name, labels);
    const list = this.observations.get(key) ?? [];
    list.push(value);
    this.observations.set(key, list);
  }

  set(name: string, value: number, labels?: MetricLabels): void {
    this.gauges.set(metricKey(name, labels), value);
  }
}

/** `name{a="1",b="2"}`, labels sorted, as Prometheus prints a series. */
export function metricKey(name: string, labels?: MetricLabels): string {
  if (labels === undefined) return name;
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return `${name}{${parts.join(',')}}`;
}
