/**
 * Metrics read at scrape time: the hot path only bumps plain numbers, turned into Prometheus samples when
 * /metrics is scraped. They plug into a prom-client Registry like its own metrics (it only calls get/reset).
 */
import type { Metric, Registry } from "prom-client";

/** Sample is one value of a metric with its labels (and, for histogram parts, the full sample name). */
export interface Sample {
  readonly value: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly metricName?: string;
}

export interface CollectedMetricSpec {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  /** collect returns the current samples; called once per scrape. */
  readonly collect: () => readonly Sample[];
}

export function registerCollectedMetric(registry: Registry, spec: CollectedMetricSpec): void {
  const metric = {
    name: spec.name,
    help: spec.help,
    type: spec.type,
    aggregator: "sum" as const,
    collect: () => undefined,
    reset: () => undefined,
    async get() {
      return {
        name: spec.name,
        help: spec.help,
        type: spec.type,
        aggregator: "sum" as const,
        values: spec.collect().map((sample) => ({
          value: sample.value,
          labels: sample.labels ?? {},
          ...(sample.metricName === undefined ? {} : { metricName: sample.metricName }),
        })),
      };
    },
  };
  // The registry's type names only its own classes, but it needs nothing beyond the members above.
  registry.registerMetric(metric as unknown as Metric);
}

/** FastHistogram is a fixed-bucket histogram: observe() is a short loop and two additions. */
export interface FastHistogram {
  observe(value: number): void;
  /** samples gives the Prometheus samples (cumulative buckets, sum, count) under `name`. */
  samples(name: string, labels?: Readonly<Record<string, string>>): Sample[];
  count(): number;
}

/** createFastHistogram builds a histogram over ascending upper `bounds` (+Inf is implicit). */
export function createFastHistogram(bounds: readonly number[]): FastHistogram {
  const upper = Float64Array.from(bounds);
  const counts = new Float64Array(upper.length + 1);
  const last = upper.length;
  let sum = 0;
  let total = 0;
  return {
    observe(value) {
      let i = 0;
      while (i < last && value > (upper[i] as number)) {
        i++;
      }
      counts[i] = (counts[i] as number) + 1;
      sum += value;
      total += 1;
    },
    samples(name, labels = {}) {
      const out: Sample[] = [];
      let cumulative = 0;
      for (let i = 0; i <= last; i++) {
        cumulative += counts[i] as number;
        const le = i === last ? "+Inf" : String(upper[i]);
        out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
      }
      out.push({ metricName: `${name}_sum`, labels, value: sum });
      out.push({ metricName: `${name}_count`, labels, value: total });
      return out;
    },
    count: () => total,
  };
}
