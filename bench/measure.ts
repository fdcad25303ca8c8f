/**
 * Counting operations inside a measurement window: load starts at once, the first `warmupMs`
 * are not counted (JIT, connection set-up, SQLite page cache), then `measureMs` are.
 */
import { parseArgs } from "node:util";

export interface Phase {
  warmupMs: number;
  measureMs: number;
  /** CPU seconds used so far by the process under test, read when the window opens and closes. */
  cpuSeconds?: () => number;
}

export class WindowCounter {
  readonly startsAt: number;
  readonly endsAt: number;
  private counted = 0;
  private failures = 0;
  readonly latenciesMs: number[] = [];
  private cpuAtStart = NaN;
  private cpuAtEnd = NaN;
  private generatorCpuAtStart = NaN;
  private generatorCpuAtEnd = NaN;
  private readonly cpuSeconds: (() => number) | undefined;

  constructor(phase: Phase) {
    this.startsAt = performance.now() + phase.warmupMs;
    this.endsAt = this.startsAt + phase.measureMs;
    this.cpuSeconds = phase.cpuSeconds;
    // CPU is read at the window's edges by timers, or by whichever call first sees an edge
    // passed: a timer can fire late on a loaded machine, after the clients saw the window close.
    setTimeout(() => this.readStart(), phase.warmupMs);
    setTimeout(() => this.readEnd(), phase.warmupMs + phase.measureMs);
  }

  get running(): boolean {
    if (performance.now() < this.endsAt) return true;
    this.readEnd();
    return false;
  }

  /** Records one operation that started at `startedAt` and has just finished. */
  done(startedAt: number): void {
    const now = performance.now();
    if (now >= this.startsAt) this.readStart();
    if (now < this.startsAt || now >= this.endsAt) return;
    this.counted++;
    this.latenciesMs.push(now - startedAt);
  }

  failed(): void {
    this.failures++;
  }

  get failureCount(): number {
    return this.failures;
  }

  private readStart(): void {
    if (!Number.isNaN(this.generatorCpuAtStart)) return;
    this.generatorCpuAtStart = generatorCpuSeconds();
    if (this.cpuSeconds !== undefined) this.cpuAtStart = this.cpuSeconds();
  }

  private readEnd(): void {
    if (!Number.isNaN(this.generatorCpuAtEnd)) return;
    this.readStart();
    this.generatorCpuAtEnd = generatorCpuSeconds();
    if (this.cpuSeconds !== undefined) this.cpuAtEnd = this.cpuSeconds();
  }

  perSecond(): number {
    return this.counted / ((this.endsAt - this.startsAt) / 1_000);
  }

  /** CPU time the process under test spent per counted operation, in µs (NaN when not measured). */
  cpuMicrosPerOperation(): number {
    this.readEnd();
    return ((this.cpuAtEnd - this.cpuAtStart) * 1e6) / this.counted;
  }

  /** This process's (the load generator's) CPU time per counted operation, in µs. */
  generatorCpuMicrosPerOperation(): number {
    this.readEnd();
    return ((this.generatorCpuAtEnd - this.generatorCpuAtStart) * 1e6) / this.counted;
  }
}

function generatorCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

/** One run of a throughput scenario. */
export interface ThroughputSample {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU of the process(es) under test per operation. */
  cpuMicros: number;
  /** CPU of the load generator per operation. */
  generatorCpuMicros: number;
}

export function formatRate(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

export function formatMs(value: number): string {
  return `${value.toFixed(1)} ms`;
}

/** One row of the bench table: a value per run, reported as their median against a target. */
export interface BenchRow {
  name: string;
  values: number[];
  p50Ms?: number[];
  p99Ms?: number[];
  cpuMicros?: number[];
  generatorCpuMicros?: number[];
  target: number;
  better: "higher" | "lower";
  format: (value: number) => string;
}

/**
 * Warm-up of a full run before its window opens. A coordinator's first seconds are not its
 * steady state: the JIT compiles its hot paths on another thread, at ~40-120 µs of CPU per
 * operation in the first seconds (per-thread CPU from /proc), competing with the coordinator
 * for the same two cores. One cycle scenario, same build, 3 rounds each: 1 s warm-up 5,511-5,730
 * cycles/s at 167-175 µs; 3 s warm-up 5,908-6,487/s at 146-157 µs.
 */
const STEADY_STATE_WARMUP_MS = 3_000;

export interface BenchFlags {
  quick: boolean;
  runs: number;
  phase: Phase;
}

/** `[--quick] [--runs N]`, shared by every bench entry point; a bad value exits 2 naming `program`. */
export function parseBenchFlags(program: string): BenchFlags {
  const { values: flags } = parseArgs({
    args: Bun.argv.slice(2),
    options: { quick: { type: "boolean", default: false }, runs: { type: "string" } },
    strict: true,
  });
  const quick = flags.quick === true;
  const runs = flags.runs === undefined ? (quick ? 1 : 5) : Number(flags.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) {
    console.error(`${program}: --runs must be a whole number from 1 to 50, got "${flags.runs}"`);
    process.exit(2);
  }
  const phase: Phase = quick ? { warmupMs: 500, measureMs: 1_500 } : { warmupMs: STEADY_STATE_WARMUP_MS, measureMs: 4_000 };
  return { quick, runs, phase };
}

/** The table row of a throughput scenario: its rate per run, with latency and CPU columns. */
export function throughputRow(name: string, samples: readonly ThroughputSample[], target: number): BenchRow {
  return {
    name,
    values: samples.map((sample) => sample.perSecond),
    p50Ms: samples.map((sample) => sample.p50Ms),
    p99Ms: samples.map((sample) => sample.p99Ms),
    cpuMicros: samples.map((sample) => sample.cpuMicros),
    generatorCpuMicros: samples.map((sample) => sample.generatorCpuMicros),
    target,
    better: "higher",
    format: formatRate,
  };
}
