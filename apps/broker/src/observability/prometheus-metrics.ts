// The core's Metrics port on prom-client. Instruments are made on first use, named as the packages
// name them; the label names of an instrument are those of its first use.
import type { MetricLabels, Metrics } from '@tributary/core';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Help text for the instruments the packages emit; anything else gets a generic line. */
const HELP: Record<string, string> = {
  tributary_requests_total: 'Requests received, by API and version.',
  tributary_request_duration_seconds: 'Time from a request being read to its response being written, by API.',
  tributary_bytes_in_total: 'Bytes read from client connections.',
  tributary_bytes_out_total: 'Bytes written to client connections.',
  tributary_connections: 'Open client connections.',
  tributary_produce_requests_total: 'Produce requests, by acks.',
  tributary_fetch_requests_total: 'Fetch requests.',
  tributary_records_in_total: 'Records appended.',
  tributary_bytes_appended_total: 'Record batch bytes appended.',
};

/** Request latencies run from tens of microseconds (in memory) to a long-poll's wait. */
const DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30,
];

type Instrument = Counter | Gauge | Histogram;

export class PrometheusMetrics implements Metrics {
  private readonly instruments = new Map<string, Instrument>();

  constructor(private readonly registry: Registry) {}

  increment(name: string, labels?: MetricLabels, value = 1): void {
    const counter = this.instrument(name, labels, Counter);
    if (labels === undefined) counter.inc(value);
    else counter.inc(labels, value);
  }

  observe(name: string, value: number, labels?: MetricLabels): void {
    const histogram = this.instrument(name, labels, Histogram);
    if (labels === undefined) histogram.observe(value);
    else histogram.observe(labels, value);
  }

  set(name: string, value: number, labels?: MetricLabels): void {
    const gauge = this.instrument(name, labels, Gauge);
    if (labels === undefined) gauge.set(value);
    else gauge.set(labels, value);
  }

  private instrument<T extends Instrument>(
    name: string,
    labels: MetricLabels | undefined,
    kind: new (config: {
      name: string;
      help: string;
      labelNames: string[];
      registers: Registry[];
      buckets?: number[];
    }) => T,
  ): T {
    const existing = this.instruments.get(name);
    if (existing !== undefined) {
      if (!(existing instanceof kind)) throw new Error(`metric ${name} is used as two kinds of instrument`);
      return existing;
    }
    const made = new kind({
      name,
      help: HELP[name] ?? `Tributary metric ${name}.`,
      labelNames: labels === undefined ? [] : Object.keys(labels),
      registers: [this.registry],
      ...((kind as unknown) === Histogram && { buckets: DURATION_BUCKETS }),
    });
    this.instruments.set(name, made);
    return made;
  }
}
