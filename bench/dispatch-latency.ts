/**
 * Dispatch latency with an idle host: the time from just before a client sends
 * `POST /v1/jobs` to the moment the job's own process reads the clock, one job at a time.
 *
 * Each sample includes: the enqueue request and its durable commit, waking the host's parked
 * claim, the claim's durable commit and HTTP response, the host creating the job's directory,
 * checking the command and `Bun.spawn`ing it in its own process group, and the kernel's
 * fork + exec of the stamp program up to its first instruction's clock read. Nothing is
 * subtracted. The next job is sent only after the previous one completed and the host had
 * `idleGapMs` to get back into its long-poll, so every sample sees an idle host.
 */
import type { Job } from "../src/api";
import { newIdempotencyKey } from "../src/client/http";
import type { JobClock } from "./job-clock";
import { percentile } from "./measure";

const TERMINAL_STATES = new Set(["succeeded", "failed", "cancelled", "dead"]);
const OUTPUT_WAIT_MS = 10_000;

export interface DispatchOptions {
  jobs: number;
  /** Jobs run first and not counted (JIT, connections, SQLite page cache). */
  warmupJobs: number;
  idleGapMs: number;
  clock: JobClock;
  /** CPU seconds used so far by the host process, to report its CPU per dispatch. */
  hostCpuSeconds: () => number;
}

export interface DispatchResult {
  latenciesMs: number[];
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Host CPU per job, whole job cycle (claim, spawn, output, completion), in µs. */
  hostCpuMicros: number;
}

export async function runDispatchLatency(url: string, options: DispatchOptions): Promise<DispatchResult> {
  const body = JSON.stringify({ kind: "shell", command: options.clock.executable, args: options.clock.args });
  const latenciesMs: number[] = [];
  let cpuAtStart = NaN;
  for (let index = 0; index < options.warmupJobs + options.jobs; index++) {
    if (index === options.warmupJobs) cpuAtStart = options.hostCpuSeconds();
    await Bun.sleep(options.idleGapMs);
    const sentNs = options.clock.nowNs();
    const response = await fetch(`${url}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-idempotency-key": newIdempotencyKey() },
      body,
    });
    if (response.status !== 201) throw new Error(`enqueue answered ${response.status}: ${await response.text()}`);
    const { id } = (await response.json()) as { id: string };
    const job = await finished(url, id);
    const printed = job.result?.stdoutTail?.trim() ?? "";
    if (job.state !== "succeeded" || !/^\d+$/.test(printed)) {
      throw new Error(`dispatch job ${id} ended ${job.state} with stdout "${printed.slice(0, 80)}": ${job.result?.message ?? ""}`);
    }
    if (index >= options.warmupJobs) latenciesMs.push(Number(BigInt(printed) - sentNs) / 1e6);
  }
  return {
    latenciesMs,
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
    maxMs: Math.max(...latenciesMs),
    hostCpuMicros: ((options.hostCpuSeconds() - cpuAtStart) * 1e6) / options.jobs,
  };
}

/** Follows the job's output long-poll (which also ends on state changes) until it is over. */
async function finished(url: string, id: string): Promise<Job> {
  let after = 0;
  for (;;) {
    const response = await fetch(`${url}/v1/jobs/${id}/output?after=${after}&waitMs=${OUTPUT_WAIT_MS}`);
    if (!response.ok) throw new Error(`GET output of ${id} answered ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as { job: Job; lastSeq: number };
    if (TERMINAL_STATES.has(page.job.state)) return page.job;
    after = page.lastSeq;
  }
}
