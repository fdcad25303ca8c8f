/**
 * `bun run bench [--quick] [--runs N]`: the control-plane benchmarks of one coordinator, and
 * the host benchmarks of a real `skyclaw host` process.
 *
 *   enqueue   jobs/s acknowledged with a durable commit, 64 concurrent clients (target 10,000),
 *             each request with its own idempotency key as the Skyclaw client sends; and, to show
 *             what keys cost, the same without keys (a plain `curl -X POST`)
 *   cycle     enqueue → claim → complete per second with simulated hosts, for two fleets: 64
 *             clients and 64 slots, 256 and 256 (target 5,000; see CYCLE_SHAPES in cycle-load.ts)
 *   dispatch  enqueue → job process started, one job at a time on an idle host (p50 ≤ 5 ms, p99 ≤ 25 ms)
 *   host RSS  VmRSS of the host daemon registered and idle, from source and compiled (≤ 60 MB)
 *   3-node    a Raft cluster of three coordinator processes: enqueue (at the leader, and spread
 *             over the nodes), cycle, kill -9 of the leader → first acknowledged write, and the
 *             enqueue rate with 100,000 jobs stored against 1,000 (see cluster.ts)
 *
 * Each run starts a fresh coordinator process on a fresh database under .bench/ and measures
 * one scenario; the scenarios alternate run by run so both see the same machine, and each is
 * reported as the median of its runs. The load generator is this process, the coordinator a
 * separate `bun` process, so on a 2-core machine the generator takes its share of the CPU. Its
 * clients are lean keep-alive HTTP/1.1 connections (raw-http.ts), not fetch: real clients run
 * on other machines, and fetch cost as much CPU per request as the coordinator spent answering
 * it. The table shows the generator's own CPU per operation beside the coordinator's.
 * `--quick` is one short run of each, for smoke-checking.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary } from "./build-binary";
import { runClusterBench } from "./cluster";
import { killBenchCoordinators, startBenchCoordinator } from "./coordinator-process";
import { CYCLE_SHAPES, cycleShapeName, runCycleLoad } from "./cycle-load";
import { runEnqueueLoad } from "./enqueue-load";
import { killBenchHosts } from "./host-process";
import { runHostScenario, type HostScenarioResult } from "./host-scenario";
import { directSpawnLatencyMs, prepareJobClock } from "./job-clock";
import { formatMs, formatRate, median, parseBenchFlags, throughputRow, type BenchRow, type ThroughputSample } from "./measure";

const TARGETS = { enqueue: 10_000, cycle: 5_000, dispatchP50Ms: 5, dispatchP99Ms: 25, hostIdleRssMb: 60 } as const;
const ENQUEUE_CLIENTS = 64;

const flags = parseBenchFlags("bench");
const { runs, phase } = flags;
/**
 * Dispatch jobs per run, after warm-up jobs (a long-running coordinator and host have their hot
 * paths JIT-compiled: with 20 warm-up jobs instead of 200 the p50 was ~1 ms higher); idle time
 * before the RSS reading; gap that lets the host park its claim again before the next job.
 */
const HOST_SHAPE = flags.quick
  ? { jobs: 50, warmupJobs: 50, idleMs: 1_500, idleGapMs: 20 }
  : { jobs: 200, warmupJobs: 200, idleMs: 3_000, idleGapMs: 20 };
const SPAWN_FLOOR_SAMPLES = 50;

const samples: { enqueue: ThroughputSample[]; enqueueNoKeys: ThroughputSample[]; cycle: ThroughputSample[][] } = {
  enqueue: [],
  enqueueNoKeys: [],
  cycle: CYCLE_SHAPES.map(() => []),
};
const hostSamples: { source: HostScenarioResult[]; binary: HostScenarioResult[] } = { source: [], binary: [] };

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killBenchHosts();
    killBenchCoordinators();
    process.exit(130);
  });
}

const workDir = mkdtempSync(join(tmpdir(), "skyclaw-bench-"));
const clock = prepareJobClock(workDir);
// A fresh binary, so that it is the code being measured; the row is skipped if it cannot be built.
const binary = buildBinary();
if ("error" in binary) console.log(`host RSS of the compiled binary skipped: ${binary.error}`);
const spawnFloor: number[] = [];
for (let sample = 0; sample < SPAWN_FLOOR_SAMPLES; sample++) spawnFloor.push(await directSpawnLatencyMs(clock));

console.log(
  `skyclaw bench: ${runs} run(s) per scenario, ${phase.warmupMs} ms warm-up + ${phase.measureMs} ms measured, ` +
    `coordinator in its own process, db on disk (every answer waits for the fsync of its commit)`,
);
console.log(
  `host: ${HOST_SHAPE.warmupJobs} + ${HOST_SHAPE.jobs} jobs per run, one at a time, ${HOST_SHAPE.idleGapMs} ms apart; job clock: ${clock.description}`,
);
try {
  for (let run = 1; run <= runs; run++) {
    for (const [key, idempotencyKeys, label] of [
      ["enqueue", true, "enqueue"],
      ["enqueueNoKeys", false, "enqueue without idempotency keys"],
    ] as const) {
      const coordinator = await startBenchCoordinator(key);
      try {
        const result = await runEnqueueLoad(coordinator.url, { clients: ENQUEUE_CLIENTS, idempotencyKeys, ...phase, cpuSeconds: coordinator.cpuSeconds });
        if (result.failures > 0) throw new Error(`${label} run ${run}: ${result.failures} requests were not answered 201`);
        samples[key].push({ perSecond: result.jobsPerSecond, p50Ms: result.p50Ms, p99Ms: result.p99Ms, cpuMicros: result.cpuMicros, generatorCpuMicros: result.generatorCpuMicros });
        console.log(
          `  run ${run} ${label}: ${formatRate(result.jobsPerSecond)} jobs/s (p50 ${formatMs(result.p50Ms)}, p99 ${formatMs(result.p99Ms)}; ` +
            `coordinator ${result.cpuMicros.toFixed(0)} µs CPU/job, load generator ${result.generatorCpuMicros.toFixed(0)} µs)`,
        );
      } finally {
        await coordinator.stop();
      }
    }
    for (const [shapeIndex, shape] of CYCLE_SHAPES.entries()) {
      const coordinator = await startBenchCoordinator("cycle");
      try {
        const result = await runCycleLoad(coordinator.url, { ...shape, ...phase, cpuSeconds: coordinator.cpuSeconds });
        samples.cycle[shapeIndex]!.push({ perSecond: result.cyclesPerSecond, p50Ms: result.p50Ms, p99Ms: result.p99Ms, cpuMicros: result.cpuMicros, generatorCpuMicros: result.generatorCpuMicros });
        console.log(
          `  run ${run} cycle, ${shape.hosts} x ${shape.slotsPerHost} slots: ${formatRate(result.cyclesPerSecond)} cycles/s (p50 ${formatMs(result.p50Ms)}, p99 ${formatMs(result.p99Ms)}; ` +
            `${result.claims} claims, ${result.emptyClaims} empty; coordinator ${result.cpuMicros.toFixed(0)} µs CPU/cycle, load generator ${result.generatorCpuMicros.toFixed(0)} µs)`,
        );
      } finally {
        await coordinator.stop();
      }
    }
    for (const flavour of ["source", "binary"] as const) {
      if (flavour === "binary" && "error" in binary) continue;
      const result = await runHostScenario({
        label: flavour,
        ...(flavour === "binary" && "path" in binary && { binary: binary.path }),
        clock,
        workDir,
        ...HOST_SHAPE,
      });
      hostSamples[flavour].push(result);
      const { dispatch } = result;
      console.log(
        `  run ${run} host (${flavour}): dispatch p50 ${formatMs(dispatch.p50Ms)}, p99 ${formatMs(dispatch.p99Ms)}, max ${formatMs(dispatch.maxMs)}; ` +
          `idle RSS ${mb(result.idleRssBytes)} MB, ${mb(result.rssAfterJobsBytes)} MB idle after the jobs; host ${dispatch.hostCpuMicros.toFixed(0)} µs CPU/job`,
      );
    }
  }
} finally {
  killBenchHosts();
  killBenchCoordinators();
  rmSync(workDir, { recursive: true, force: true });
}
console.log("3-node cluster (SKYCLAW_PEER_URLS, default Raft timings), a fresh cluster per run and scenario:");
let clusterRows: BenchRow[] = [];
try {
  clusterRows = await runClusterBench({ runs, phase, log: (line) => console.log(line) });
} finally {
  killBenchCoordinators();
}

const rows: BenchRow[] = [
  throughputRow(`enqueue, ${ENQUEUE_CLIENTS} clients (jobs/s)`, samples.enqueue, TARGETS.enqueue),
  throughputRow(`enqueue, ${ENQUEUE_CLIENTS} clients, no idempotency keys (jobs/s)`, samples.enqueueNoKeys, TARGETS.enqueue),
  ...CYCLE_SHAPES.map((shape, i) => throughputRow(`cycle, ${cycleShapeName(shape)} (cycles/s)`, samples.cycle[i]!, TARGETS.cycle)),
  {
    name: "dispatch p50, idle host (ms)",
    values: hostSamples.source.map((sample) => sample.dispatch.p50Ms),
    target: TARGETS.dispatchP50Ms,
    better: "lower",
    format: (value) => value.toFixed(1),
  },
  {
    name: "dispatch p99, idle host (ms)",
    values: hostSamples.source.map((sample) => sample.dispatch.p99Ms),
    target: TARGETS.dispatchP99Ms,
    better: "lower",
    format: (value) => value.toFixed(1),
  },
  ...(["source", "binary"] as const)
    .filter((flavour) => hostSamples[flavour].length > 0)
    .map(
      (flavour): BenchRow => ({
        name: `host idle RSS, ${flavour === "source" ? "bun src/cli/main.ts" : "dist/skyclaw"} (MB)`,
        values: hostSamples[flavour].map((sample) => sample.idleRssBytes / 2 ** 20),
        target: TARGETS.hostIdleRssMb,
        better: "lower",
        format: (value) => value.toFixed(1),
      }),
    ),
  ...clusterRows,
];
console.log("");
console.log(table(
  ["scenario", "median", "min", "max", "p50 ms", "p99 ms", "CPU µs/op", "gen µs/op", "target", "ratio", ""],
  rows.map((row) => {
    const value = median(row.values);
    const ratio = row.better === "higher" ? value / row.target : row.target / value;
    const column = (values: number[] | undefined, digits: number) => (values === undefined ? "" : median(values).toFixed(digits));
    return [
      row.name,
      row.format(value),
      row.format(Math.min(...row.values)),
      row.format(Math.max(...row.values)),
      column(row.p50Ms, 1),
      column(row.p99Ms, 1),
      column(row.cpuMicros, 0),
      column(row.generatorCpuMicros, 0),
      row.format(row.target),
      `${ratio.toFixed(2)}x`,
      ratio >= 1 ? "ok" : row.better === "higher" ? "BELOW TARGET" : "ABOVE TARGET",
    ];
  }),
));
const load = loadavg()[0]!;
console.log(
  `\nratio: how far the target is met, 1.00x or more is ok (value ÷ target for rates; target ÷ value for latency and memory).` +
    `\nCPU µs/op: coordinator CPU time per operation in the window (its capacity on one idle core is about 1e6 / that);` +
    ` gen µs/op: the load generator's (this process's) own CPU per operation, taken from the same two cores.` +
    `\ndispatch: from just before POST /v1/jobs to the job's first clock read: enqueue commit, claim wake-up and commit, HTTP, the host's` +
    ` job directory, checks and Bun.spawn, the kernel's fork + exec. Nothing subtracted. The same program spawned straight from this` +
    ` process takes ${median(spawnFloor).toFixed(2)} ms (median of ${SPAWN_FLOOR_SAMPLES}): the floor no host can go under.` +
    ` The rows are the host run from source; the compiled host's are in the run lines above.` +
    (hostSamples.source.length > 0
      ? `\nhost CPU per dispatched job (whole cycle): ${median(hostSamples.source.map((sample) => sample.dispatch.hostCpuMicros)).toFixed(0)} µs;` +
        ` idle RSS after the jobs: ${median(hostSamples.source.map((sample) => sample.rssAfterJobsBytes / 2 ** 20)).toFixed(1)} MB from source` +
        (hostSamples.binary.length > 0 ? `, ${median(hostSamples.binary.map((sample) => sample.rssAfterJobsBytes / 2 ** 20)).toFixed(1)} MB compiled` : "")
      : "") +
    `\nload average at the end: ${load.toFixed(2)} on ${availableParallelism()} cores` +
    (load > availableParallelism() ? " — other processes competed for the CPU; rates are lower than on an idle machine" : ""),
);

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}


function table(header: string[], body: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...body.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ").trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...body.map(line)].join("\n");
}
