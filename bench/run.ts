/**
 * `bun run bench [--quick] [--runs N]`: the control-plane benchmarks of one coordinator.
 *
 *   enqueue   jobs/s acknowledged with a durable commit, 64 concurrent clients (target 10,000)
 *   cycle     enqueue → claim → complete per second with simulated hosts (target 5,000)
 *
 * Each run starts a fresh coordinator process on a fresh database under .bench/ and measures
 * one scenario; the scenarios alternate run by run so both see the same machine, and each is
 * reported as the median of its runs. The load generator is this process, the coordinator a
 * separate `bun` process, so on a 2-core machine the generator takes its share of the CPU as
 * real clients would. `--quick` is one short run of each, for smoke-checking.
 */
import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { killBenchCoordinators, startBenchCoordinator } from "./coordinator-process";
import { runCycleLoad } from "./cycle-load";
import { runEnqueueLoad } from "./enqueue-load";
import { median, type Phase } from "./measure";

const TARGETS = { enqueue: 10_000, cycle: 5_000 } as const;
const ENQUEUE_CLIENTS = 64;
const CYCLE_SHAPE = { hosts: 8, slotsPerHost: 8, enqueuers: 16, backlog: 256 } as const;

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: { quick: { type: "boolean", default: false }, runs: { type: "string" } },
  strict: true,
});
const runs = flags.runs === undefined ? (flags.quick ? 1 : 5) : Number(flags.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 50) {
  console.error(`bench: --runs must be a whole number from 1 to 50, got "${flags.runs}"`);
  process.exit(2);
}
const phase: Phase = flags.quick ? { warmupMs: 500, measureMs: 1_500 } : { warmupMs: 1_000, measureMs: 4_000 };

interface Sample {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuMicros: number;
}

const samples: { enqueue: Sample[]; cycle: Sample[] } = { enqueue: [], cycle: [] };

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killBenchCoordinators();
    process.exit(130);
  });
}

console.log(
  `skyclaw bench: ${runs} run(s) per scenario, ${phase.warmupMs} ms warm-up + ${phase.measureMs} ms measured, ` +
    `coordinator in its own process, db on disk (synchronous=FULL)`,
);
try {
  for (let run = 1; run <= runs; run++) {
    {
      const coordinator = await startBenchCoordinator("enqueue");
      try {
        const result = await runEnqueueLoad(coordinator.url, { clients: ENQUEUE_CLIENTS, ...phase, cpuSeconds: coordinator.cpuSeconds });
        if (result.failures > 0) throw new Error(`enqueue run ${run}: ${result.failures} requests were not answered 201`);
        samples.enqueue.push({ perSecond: result.jobsPerSecond, p50Ms: result.p50Ms, p99Ms: result.p99Ms, cpuMicros: result.cpuMicros });
        console.log(
          `  run ${run} enqueue: ${formatRate(result.jobsPerSecond)} jobs/s (p50 ${ms(result.p50Ms)}, p99 ${ms(result.p99Ms)}; ` +
            `coordinator ${result.cpuMicros.toFixed(0)} µs CPU/job)`,
        );
      } finally {
        await coordinator.stop();
      }
    }
    {
      const coordinator = await startBenchCoordinator("cycle");
      try {
        const result = await runCycleLoad(coordinator.url, { ...CYCLE_SHAPE, ...phase, cpuSeconds: coordinator.cpuSeconds });
        samples.cycle.push({ perSecond: result.cyclesPerSecond, p50Ms: result.p50Ms, p99Ms: result.p99Ms, cpuMicros: result.cpuMicros });
        console.log(
          `  run ${run} cycle:   ${formatRate(result.cyclesPerSecond)} cycles/s (p50 ${ms(result.p50Ms)}, p99 ${ms(result.p99Ms)}; ` +
            `${result.claims} claims, ${result.emptyClaims} empty; coordinator ${result.cpuMicros.toFixed(0)} µs CPU/cycle)`,
        );
      } finally {
        await coordinator.stop();
      }
    }
  }
} finally {
  killBenchCoordinators();
}

const rows = [
  {
    name: `enqueue, ${ENQUEUE_CLIENTS} clients (jobs/s)`,
    samples: samples.enqueue,
    target: TARGETS.enqueue,
  },
  {
    name: `cycle, ${CYCLE_SHAPE.hosts} hosts x ${CYCLE_SHAPE.slotsPerHost} slots (cycles/s)`,
    samples: samples.cycle,
    target: TARGETS.cycle,
  },
];
console.log("");
console.log(table(
  ["scenario", "median", "min", "max", "p50 ms", "p99 ms", "CPU µs/op", "target", "ratio", ""],
  rows.map(({ name, samples: values, target }) => {
    const rates = values.map((sample) => sample.perSecond);
    const rate = median(rates);
    return [
      name,
      formatRate(rate),
      formatRate(Math.min(...rates)),
      formatRate(Math.max(...rates)),
      median(values.map((sample) => sample.p50Ms)).toFixed(1),
      median(values.map((sample) => sample.p99Ms)).toFixed(1),
      median(values.map((sample) => sample.cpuMicros)).toFixed(0),
      formatRate(target),
      `${(rate / target).toFixed(2)}x`,
      rate >= target ? "ok" : "BELOW TARGET",
    ];
  }),
));
const load = loadavg()[0]!;
console.log(
  `\nCPU µs/op: coordinator CPU time per operation in the window (its capacity on one idle core is about 1e6 / that).` +
    `\nload average at the end: ${load.toFixed(2)} on ${availableParallelism()} cores` +
    (load > availableParallelism() ? " — other processes competed for the CPU; rates are lower than on an idle machine" : ""),
);

function formatRate(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

function table(header: string[], body: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...body.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ").trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...body.map(line)].join("\n");
}
