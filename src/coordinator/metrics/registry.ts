/**
 * A small metrics registry rendered in the Prometheus text exposition format (version 0.0.4):
 * counters, gauges and histograms with fixed buckets, all with optional labels.
 *
 * Written by hand rather than taken from prom-client, which is built around Node's cluster and
 * process modules; all this needs is a few maps and a renderer. Gauges whose value is a fact of
 * the database are not stored at all: a collector reads them when the endpoint is scraped.
 */

export type Labels = Record<string, string>;

/** One labelled value of a gauge computed at scrape time. */
export interface Sample {
  labels: Labels;
  value: number;
}

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(lines: string[]): void;
}

export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(readonly name: string) {
    if (!name.endsWith("_total")) throw new Error(`counter ${name} must end in _total`);
  }

  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error(`counter ${this.name} cannot decrease (by ${by})`);
    const key = labelKey(labels);
    const entry = this.values.get(key);
    if (entry === undefined) this.values.set(key, { labels, value: by });
    else entry.value += by;
  }

  /**
   * The series of `labels`, to add to directly: for a hot path that already knows the series
   * by a key of its own, and so skips building the label key on every increment.
   */
  series(labels: Labels): { value: number } {
    const key = labelKey(labels);
    let entry = this.values.get(key);
    if (entry === undefined) this.values.set(key, (entry = { labels, value: 0 }));
    return entry;
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels))?.value ?? 0;
  }

  render(lines: string[]): void {
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${formatLabels(labels)} ${formatValue(value)}`);
  }
}

export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  /** `buckets` are the upper bounds, ascending; +Inf is added when rendering. */
  constructor(
    readonly name: string,
    readonly buckets: readonly number[],
  ) {
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i]! <= buckets[i - 1]!) throw new Error(`histogram ${name}: buckets must be strictly ascending`);
    }
  }

  /** Makes the series appear (all zero) before its first observation. */
  declare(labels: Labels = {}): void {
    this.seriesOf(labels);
  }

  observe(value: number, labels: Labels = {}): void {
    this.record(this.seriesOf(labels), value);
  }

  /** An observer of the series of `labels`, for a hot path: the label key is built once. */
  observerOf(labels: Labels = {}): (value: number) => void {
    const entry = this.seriesOf(labels);
    return (value) => this.record(entry, value);
  }

  private record(entry: { counts: number[]; sum: number; count: number }, value: number): void {
    // Counts are kept per bucket and made cumulative when rendered.
    const bucket = this.buckets.findIndex((bound) => value <= bound);
    if (bucket >= 0) entry.counts[bucket]!++;
    entry.sum += value;
    entry.count++;
  }

  private seriesOf(labels: Labels) {
    const key = labelKey(labels);
    let entry = this.series.get(key);
    if (entry === undefined) this.series.set(key, (entry = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    return entry;
  }

  render(lines: string[]): void {
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += counts[i]!;
        lines.push(`${this.name}_bucket${formatLabels({ ...labels, le: formatValue(bound) })} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket${formatLabels({ ...labels, le: "+Inf" })} ${count}`);
      lines.push(`${this.name}_sum${formatLabels(labels)} ${formatValue(sum)}`);
      lines.push(`${this.name}_count${formatLabels(labels)} ${count}`);
    }
  }
}

export class Registry {
  private readonly families: Family[] = [];

  counter(name: string, help: string): Counter {
    const counter = new Counter(name);
    this.add({ name, help, type: "counter", render: (lines) => counter.render(lines) });
    return counter;
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    const histogram = new Histogram(name, buckets);
    this.add({ name, help, type: "histogram", render: (lines) => histogram.render(lines) });
    return histogram;
  }

  /** A gauge read at scrape time: `collect` returns its current samples. */
  gauge(name: string, help: string, collect: () => Sample[]): void {
    this.add({
      name,
      help,
      type: "gauge",
      render: (lines) => {
        for (const { labels, value } of collect()) lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
      },
    });
  }

  /** The whole registry in the text format, ending with a newline. */
  render(): string {
    const lines: string[] = [];
    for (const family of this.families) {
      lines.push(`# HELP ${family.name} ${family.help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")}`);
      lines.push(`# TYPE ${family.name} ${family.type}`);
      family.render(lines);
    }
    return `${lines.join("\n")}\n`;
  }

  private add(family: Family): void {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(family.name)) throw new Error(`"${family.name}" is not a metric name`);
    if (this.families.some((other) => other.name === family.name)) throw new Error(`metric ${family.name} is registered twice`);
    this.families.push(family);
  }
}

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  const escape = (value: string) => value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
  return `{${entries.map(([name, value]) => `${name}="${escape(value)}"`).join(",")}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
