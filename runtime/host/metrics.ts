/**
 * Prometheus metrics in the text exposition format (version 0.0.4): counters, gauges and
 * histograms with labels, rendered by {@linkcode Metrics.render}.
 *
 * @module
 */

type Labels = Record<string, string>;

/** Default latency buckets, in seconds. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(",");
}

function formatNumber(n: number): string {
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  if (Number.isNaN(n)) return "NaN";
  return String(n);
}

interface Series {
  labels: string;
  value: number;
  counts?: number[];
  sum?: number;
}

function observeInto(series: Series, bounds: readonly number[], value: number) {
  let i = 0;
  while (i < bounds.length && value > bounds[i]) i++;
  if (i < bounds.length) series.counts![i]++;
  series.sum! += value;
  series.value++;
}

interface Family {
  type: "counter" | "gauge" | "histogram";
  help: string;
  buckets?: readonly number[];
  series: Map<string, Series>;
}

/**
 * A small metrics registry.
 *
 * @example
 * ```ts
 * import { Metrics } from "./metrics.ts";
 * const m = new Metrics();
 * m.counter("thaw_requests_total", "Requests served", { app: "hello", code: "200" });
 * m.observe("thaw_request_duration_seconds", "Latency", { app: "hello" }, 0.003);
 * console.assert(m.render().includes('thaw_requests_total{app="hello",code="200"} 1'));
 * ```
 */
export class Metrics {
  #families = new Map<string, Family>();

  #family(name: string, type: Family["type"], help: string, buckets?: readonly number[]): Family {
    let family = this.#families.get(name);
    if (!family) {
      family = { type, help, buckets, series: new Map() };
      this.#families.set(name, family);
    } else if (family.type !== type) {
      throw new TypeError(`Metric ${name} is a ${family.type}, not a ${type}`);
    }
    return family;
  }

  #series(family: Family, labels: Labels) {
    const key = labelKey(labels);
    let series = family.series.get(key);
    if (!series) {
      series = { labels: key, value: 0 };
      if (family.buckets) {
        series.counts = new Array(family.buckets.length).fill(0);
        series.sum = 0;
      }
      family.series.set(key, series);
    }
    return series;
  }

  /** Declares a metric so it renders (with HELP and TYPE) before it has any series. */
  declare(name: string, type: Family["type"], help: string, buckets?: readonly number[]): void {
    this.#family(name, type, help, type === "histogram" ? buckets ?? LATENCY_BUCKETS : undefined);
  }

  /** Adds `by` (default 1) to a counter. */
  counter(name: string, help: string, labels: Labels, by = 1): void {
    this.#series(this.#family(name, "counter", help), labels).value += by;
  }

  /** Sets a gauge. */
  gauge(name: string, help: string, labels: Labels, value: number): void {
    this.#series(this.#family(name, "gauge", help), labels).value = value;
  }

  /** Records one observation (in seconds for latencies) in a histogram. */
  observe(
    name: string,
    help: string,
    labels: Labels,
    value: number,
    buckets: readonly number[] = LATENCY_BUCKETS,
  ): void {
    const family = this.#family(name, "histogram", help, buckets);
    const series = this.#series(family, labels);
    observeInto(series, family.buckets!, value);
  }

  /**
   * A fast handle on one counter series, for hot paths: labels are resolved once.
   *
   * @example
   * ```ts
   * import { Metrics } from "./metrics.ts";
   * const m = new Metrics();
   * const inc = m.counterHandle("hits_total", "Hits", { app: "a" });
   * inc();
   * console.assert(m.get("hits_total", { app: "a" }) === 1);
   * ```
   */
  counterHandle(name: string, help: string, labels: Labels): (by?: number) => void {
    const series = this.#series(this.#family(name, "counter", help), labels);
    return (by = 1) => {
      series.value += by;
    };
  }

  /** A fast handle on one histogram series; see {@linkcode Metrics.counterHandle}. */
  histogramHandle(
    name: string,
    help: string,
    labels: Labels,
    buckets: readonly number[] = LATENCY_BUCKETS,
  ): (value: number) => void {
    const family = this.#family(name, "histogram", help, buckets);
    const series = this.#series(family, labels);
    return (value) => observeInto(series, family.buckets!, value);
  }

  /** The current value of a counter or gauge series, or a histogram's count. */
  get(name: string, labels: Labels): number {
    return this.#families.get(name)?.series.get(labelKey(labels))?.value ?? 0;
  }

  /** Renders every metric in the Prometheus text format. */
  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.#families) {
      lines.push(`# HELP ${name} ${family.help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")}`);
      lines.push(`# TYPE ${name} ${family.type}`);
      for (const series of family.series.values()) {
        if (family.type !== "histogram") {
          const labels = series.labels ? `{${series.labels}}` : "";
          lines.push(`${name}${labels} ${formatNumber(series.value)}`);
          continue;
        }
        const sep = series.labels ? "," : "";
        // Buckets are stored per interval and made cumulative here.
        let cumulative = 0;
        family.buckets!.forEach((le, i) => {
          cumulative += series.counts![i];
          lines.push(
            `${name}_bucket{${series.labels}${sep}le="${formatNumber(le)}"} ${cumulative}`,
          );
        });
        lines.push(`${name}_bucket{${series.labels}${sep}le="+Inf"} ${series.value}`);
        const labels = series.labels ? `{${series.labels}}` : "";
        lines.push(`${name}_sum${labels} ${formatNumber(series.sum!)}`);
        lines.push(`${name}_count${labels} ${series.value}`);
      }
    }
    return lines.join("\n") + "\n";
  }
}
