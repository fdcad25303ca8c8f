/**
 * Benchmarks of a 3-coordinator Raft cluster (part of `bun run bench`; alone: `bun run
 * bench/cluster.ts [--quick] [--runs N]`). Every run of every scenario starts a fresh cluster.
 *
 *   enqueue at the leader   64 clients, all at the leader (target 5,000 jobs/s)
 *   enqueue spread          64 clients, 22/21/21 over the three nodes: followers forward to the leader
 *   cycle                   enqueue → claim → complete at the leader, simulated hosts, the two fleets
 *                           of cycle-load.ts (target 5,000/s)
 *   failover                kill -9 of the leader → first acknowledged write, sent to the survivors
 *                           (default Raft timings; target ≤ 2 s)
 *   state size              enqueue rate with 100,000 jobs stored ÷ the rate with 1,000, same cluster
 *                           (target ≥ 0.80: replication cost flat in state size)
 *
 * The jobs stored for the state-size scenario are enqueued through the API in bursts of 128
 * concurrent requests (about half a minute for 100,000), not built as database files: the
 * cluster's log, snapshots and compaction are then exactly what a real cluster of that size has.
 * All processes share this machine's cores with the load generator.
 */
import { newIdempotencyKey } from "../src/client/http";
import { startBenchCluster, type BenchCluster } from "./cluster-process";
import { killBenchCoordinators } from "./coordinator-process";
import { CYCLE_SHAPES, cycleShapeName, runCycleLoad } from "./cycle-load";
import { runEnqueueLoad, type EnqueueResult } from "./enqueue-load";
import { formatMs, formatRate, median, parseBenchFlags, throughputRow, type BenchRow, type Phase, type ThroughputSample } from "./measure";

export const CLUSTER_TARGETS = { enqueue: 5_000, cycle: 5_000, failoverMs: 2_000, stateSizeRatio: 0.8 } as const;
const CLIENTS = 64;
const SMALL_STATE_JOBS = 1_000;
const LARGE_STATE_JOBS = 100_000;
const PRELOAD_CONCURRENCY = 128;
const FAILOVER_WARMUP_WRITES = 20;
const FAILOVER_GIVE_UP_MS = 15_000;
const JOB_BODY = JSON.stringify({ kind: "shell", command: "true", args: ["bench"] });

export async function runClusterBench(options: { runs: number; phase: Phase; log: (line: string) => void }): Promise<BenchRow[]> {
  const { phase, log } = options;
  const samples = { leader: [] as ThroughputSample[], spread: [] as ThroughputSample[], cycle: CYCLE_SHAPES.map(() => [] as ThroughputSample[]), failoverMs: [] as number[], stateRatio: [] as number[] };
  for (let run = 1; run <= options.runs; run++) {
    await withCluster("cluster-enqueue", async (cluster) => {
      const leader = await cluster.leader();
      const cpu = perNodeCpu(cluster);
      const result = await runEnqueueLoad(cluster.urls[leader]!, { clients: CLIENTS, ...phase, cpuSeconds: cpu.cpuSeconds });
      samples.leader.push(sampleOf(result));
      log(
        `  run ${run} cluster enqueue at the leader: ${formatRate(result.jobsPerSecond)} jobs/s (p50 ${formatMs(result.p50Ms)}, p99 ${formatMs(result.p99Ms)}; ` +
          `cluster ${result.cpuMicros.toFixed(0)} µs CPU/job${cpu.split(leader, result.cpuMicros)}${refusals(result)})`,
      );
    });
    await withCluster("cluster-spread", async (cluster) => {
      await cluster.leader();
      const shares = [22, 21, 21];
      const results = await Promise.all(cluster.urls.map((url, i) => runEnqueueLoad(url, { clients: shares[i]!, ...phase, cpuSeconds: cluster.cpuSeconds })));
      const perSecond = results.reduce((sum, result) => sum + result.jobsPerSecond, 0);
      // Each group measured the whole cluster's CPU over the same window: per job, divide by the total.
      const cpuMicros = (results[0]!.cpuMicros * results[0]!.jobsPerSecond) / perSecond;
      // The three groups run in this one process: its CPU over the window, per job of all three.
      const generatorCpuMicros = (results[0]!.generatorCpuMicros * results[0]!.jobsPerSecond) / perSecond;
      const sample = { perSecond, p50Ms: Math.max(...results.map((r) => r.p50Ms)), p99Ms: Math.max(...results.map((r) => r.p99Ms)), cpuMicros, generatorCpuMicros };
      samples.spread.push(sample);
      log(
        `  run ${run} cluster enqueue spread: ${formatRate(perSecond)} jobs/s (${results.map((r) => formatRate(r.jobsPerSecond)).join(" + ")}; slowest node's clients p50 ${formatMs(sample.p50Ms)}, p99 ${formatMs(sample.p99Ms)}${refusals(...results)})`,
      );
    });
    for (const [shapeIndex, shape] of CYCLE_SHAPES.entries()) {
      await withCluster("cluster-cycle", async (cluster) => {
        const leader = await cluster.leader();
        const cpu = perNodeCpu(cluster);
        const result = await runCycleLoad(cluster.urls[leader]!, { ...shape, ...phase, cpuSeconds: cpu.cpuSeconds });
        samples.cycle[shapeIndex]!.push({ perSecond: result.cyclesPerSecond, p50Ms: result.p50Ms, p99Ms: result.p99Ms, cpuMicros: result.cpuMicros, generatorCpuMicros: result.generatorCpuMicros });
        log(
          `  run ${run} cluster cycle, ${shape.hosts} x ${shape.slotsPerHost} slots: ${formatRate(result.cyclesPerSecond)} cycles/s (p50 ${formatMs(result.p50Ms)}, p99 ${formatMs(result.p99Ms)}; ` +
            `cluster ${result.cpuMicros.toFixed(0)} µs CPU/cycle${cpu.split(leader, result.cpuMicros)})`,
        );
      });
    }
    await withCluster("cluster-failover", async (cluster) => {
      const failoverMs = await measureFailover(cluster);
      samples.failoverMs.push(failoverMs);
      log(`  run ${run} cluster failover: first write acknowledged ${formatMs(failoverMs)} after kill -9 of the leader`);
    });
    await withCluster("cluster-state", async (cluster) => {
      const leader = cluster.urls[await cluster.leader()]!;
      await preload(leader, SMALL_STATE_JOBS);
      const smallStored = await storedJobs(leader);
      const small = await runEnqueueLoad(leader, { clients: CLIENTS, ...phase });
      const preloadStarted = performance.now();
      await preload(leader, LARGE_STATE_JOBS - (await storedJobs(leader)));
      const preloadSeconds = (performance.now() - preloadStarted) / 1_000;
      const largeStored = await storedJobs(leader);
      const large = await runEnqueueLoad(leader, { clients: CLIENTS, ...phase });
      const ratio = large.jobsPerSecond / small.jobsPerSecond;
      samples.stateRatio.push(ratio);
      log(
        `  run ${run} cluster state size: ${formatRate(small.jobsPerSecond)} jobs/s with ${formatRate(smallStored)} stored, ` +
          `${formatRate(large.jobsPerSecond)} jobs/s with ${formatRate(largeStored)} stored (p99 ${formatMs(small.p99Ms)} → ${formatMs(large.p99Ms)}); ratio ${ratio.toFixed(2)} ` +
          `(preloaded in ${preloadSeconds.toFixed(0)} s${refusals(small, large)})`,
      );
    });
  }
  return [
    throughputRow(`3-node enqueue, ${CLIENTS} clients at the leader (jobs/s)`, samples.leader, CLUSTER_TARGETS.enqueue),
    throughputRow(`3-node enqueue, ${CLIENTS} clients over 3 nodes (jobs/s)`, samples.spread, CLUSTER_TARGETS.enqueue),
    ...CYCLE_SHAPES.map((shape, i) => throughputRow(`3-node cycle, ${cycleShapeName(shape)} (cycles/s)`, samples.cycle[i]!, CLUSTER_TARGETS.cycle)),
    {
      name: "3-node failover, kill -9 leader → acked write (ms)",
      values: samples.failoverMs,
      target: CLUSTER_TARGETS.failoverMs,
      better: "lower",
      format: (value) => value.toFixed(0),
    },
    {
      name: `3-node enqueue rate, ${LARGE_STATE_JOBS / 1_000}k stored ÷ ${SMALL_STATE_JOBS / 1_000}k stored`,
      values: samples.stateRatio,
      target: CLUSTER_TARGETS.stateSizeRatio,
      better: "higher",
      format: (value) => value.toFixed(2),
    },
  ];
}

async function withCluster(name: string, body: (cluster: BenchCluster) => Promise<void>): Promise<void> {
  const cluster = await startBenchCluster(name);
  try {
    await body(cluster);
  } finally {
    await cluster.stop();
  }
}

/**
 * Unlike the single coordinator's, a cluster run is not aborted by refused requests: on a shared
 * 2-core machine a starved node can miss heartbeats and an election can refuse writes for a
 * moment (503, retried by real clients). They are not counted, and the run line says how many.
 */
function refusals(...results: EnqueueResult[]): string {
  const failures = results.reduce((sum, result) => sum + result.failures, 0);
  return failures === 0 ? "" : `; ${failures} requests NOT answered 201`;
}

/**
 * The cluster's CPU reader for a load run (read when the window opens and when it closes), which
 * also keeps each node's reading, to split the CPU per operation between leader and followers.
 */
function perNodeCpu(cluster: BenchCluster): { cpuSeconds: () => number; split(leader: number, totalMicros: number): string } {
  const readings: number[][] = [];
  return {
    cpuSeconds: () => {
      const byNode = cluster.cpuSecondsByNode();
      readings.push(byNode);
      return byNode.reduce((sum, seconds) => sum + seconds, 0);
    },
    split(leader, totalMicros) {
      const [start, end] = readings;
      if (start === undefined || end === undefined) return "";
      const used = end.map((seconds, i) => seconds - start[i]!);
      const total = used.reduce((sum, seconds) => sum + seconds, 0);
      const share = (i: number) => ((totalMicros * used[i]!) / total).toFixed(0);
      const followers = used.map((_, i) => i).filter((i) => i !== leader);
      return ` = leader ${share(leader)} + followers ${followers.map(share).join(" + ")}`;
    },
  };
}

function sampleOf(result: EnqueueResult): ThroughputSample {
  return { perSecond: result.jobsPerSecond, p50Ms: result.p50Ms, p99Ms: result.p99Ms, cpuMicros: result.cpuMicros, generatorCpuMicros: result.generatorCpuMicros };
}

/**
 * From the SIGKILL of the leader to the first 201 for a write sent to a survivor. Writes go to
 * both survivors at once, again as soon as neither acknowledged; a survivor that still thinks
 * the dead node leads waits for the next leader and forwards the write to it.
 */
async function measureFailover(cluster: BenchCluster): Promise<number> {
  const leader = await cluster.leader();
  for (let i = 0; i < FAILOVER_WARMUP_WRITES; i++) {
    if ((await post(cluster.urls[leader]!, 5_000)) !== 201) throw new Error("failover: the leader refused a warm-up write");
  }
  const survivors = cluster.urls.filter((_, i) => i !== leader);
  const killedAt = performance.now();
  const killed = cluster.kill9(leader);
  try {
    while (performance.now() - killedAt < FAILOVER_GIVE_UP_MS) {
      const statuses = await Promise.all(survivors.map((url) => post(url, 3_000)));
      if (statuses.includes(201)) return performance.now() - killedAt;
    }
    throw new Error(`failover: no write acknowledged within ${FAILOVER_GIVE_UP_MS} ms of killing the leader`);
  } finally {
    await killed;
  }
}

/** Enqueues `count` jobs at `url`, PRELOAD_CONCURRENCY at a time, each until acknowledged. */
async function preload(url: string, count: number): Promise<void> {
  let remaining = count;
  const worker = async () => {
    while (remaining > 0) {
      remaining--;
      while ((await post(url, 10_000)) !== 201);
    }
  };
  await Promise.all(Array.from({ length: PRELOAD_CONCURRENCY }, worker));
}

async function storedJobs(url: string): Promise<number> {
  const response = await fetch(`${url}/v1/state`);
  const state = (await response.json()) as { jobs: Record<string, number> };
  return Object.values(state.jobs).reduce((sum, count) => sum + count, 0);
}

/** One enqueue; the HTTP status, or 0 when the request failed or timed out. */
async function post(url: string, timeoutMs: number): Promise<number> {
  try {
    const response = await fetch(`${url}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-idempotency-key": newIdempotencyKey() },
      body: JOB_BODY,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

if (import.meta.main) {
  const { runs, phase } = parseBenchFlags("bench/cluster");
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      killBenchCoordinators();
      process.exit(130);
    });
  }
  console.log(`skyclaw cluster bench: ${runs} run(s) per scenario, ${phase.warmupMs} ms warm-up + ${phase.measureMs} ms measured, 3 coordinator processes`);
  try {
    const rows = await runClusterBench({ runs, phase, log: (line) => console.log(line) });
    console.log("");
    for (const row of rows) {
      const value = median(row.values);
      const ratio = row.better === "higher" ? value / row.target : row.target / value;
      console.log(
        `${row.name}: median ${row.format(value)} (min ${row.format(Math.min(...row.values))}, max ${row.format(Math.max(...row.values))}), ` +
          `target ${row.format(row.target)}, ${ratio.toFixed(2)}x ${ratio >= 1 ? "ok" : row.better === "higher" ? "BELOW TARGET" : "ABOVE TARGET"}`,
      );
    }
  } finally {
    killBenchCoordinators();
  }
}
