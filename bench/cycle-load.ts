/**
 * Control-plane throughput: full job cycles (enqueue → claim → complete) per second.
 *
 * Simulated hosts behave like the host daemon minus the process: they register, keep one
 * long-poll claim in flight asking for all their free slots, "run" each job by completing it
 * as succeeded at once, report completions with the daemon's CompletionReporter (POST
 * /v1/hosts/:id/complete, sent at once when no report is in flight, else coalesced into the
 * next one, and claiming a job for each slot it frees), and heartbeat on the coordinator's
 * schedule. Enqueuers keep the queue
 * fed but bounded (at most `backlog` jobs waiting), so the queue does not grow for ever and
 * every enqueue counted is also claimed and completed. Every write carries its own
 * idempotency key. A cycle counts when its completion is acknowledged inside the window.
 */
import type { CompleteJobsResponse } from "../src/api";
import { newIdempotencyKey } from "../src/client/http";
import { CompletionReporter } from "../src/host/completion-reporter";
import { percentile, WindowCounter, type Phase } from "./measure";
import { RawHttpPool } from "../src/client/raw-http";

export interface CycleOptions extends Phase {
  hosts: number;
  slotsPerHost: number;
  enqueuers: number;
  backlog: number;
}

export interface CycleResult {
  cyclesPerSecond: number;
  /** From sending the enqueue to the acknowledged completion. */
  p50Ms: number;
  p99Ms: number;
  /** Coordinator CPU time per counted operation. */
  cpuMicros: number;
  /** The load generator's own CPU time per counted operation. */
  generatorCpuMicros: number;
  /** Claim requests answered, and how many of them came back without a job. */
  claims: number;
  emptyClaims: number;
}

/**
 * The cycle scenario's fleets, alone and in the cluster, each measured in every run. Every
 * submitting client waits for its answer, so n clients cap the rate at n ÷ the enqueue latency;
 * and a slot is busy from its claim until its completion is acknowledged, so s slots cap it at
 * s ÷ that time (Little's law). Either cap can bind before the coordinators' CPU does:
 *
 * - 64 clients and 64 slots: a fleet that stays hungry (a claim takes the one or two jobs just
 *   enqueued). On a replicated cluster, whose commits take longer, 64 ÷ the commit latency is
 *   the limit: this shape measures latency as much as capacity.
 * - 256 clients and 256 slots: what the coordinators carry when neither clients nor hosts are
 *   the limit (claims find work waiting; the backlog stays full). With 64 clients here a
 *   3-node cluster starved its hosts: a sixth of their claims came back empty, while the
 *   coordinators' CPU had room (3,656 cycles/s at 64 clients, 4,780 at 128, 5,427 at 256,
 *   5,440 at 512, one run each, 2026-12-06).
 *
 * The backlog bounds the jobs waiting for a slot (four per slot), so the queue does not grow
 * without end.
 */
export const CYCLE_SHAPES = [
  { hosts: 8, slotsPerHost: 8, enqueuers: 64, backlog: 256 },
  { hosts: 8, slotsPerHost: 32, enqueuers: 256, backlog: 1_024 },
] as const;

export type CycleShape = (typeof CYCLE_SHAPES)[number];

export function cycleShapeName(shape: CycleShape): string {
  return `${shape.enqueuers} clients, ${shape.hosts} hosts x ${shape.slotsPerHost} slots`;
}

const JOB_BODY = JSON.stringify({ kind: "shell", command: "true", args: ["bench"] });
const CLAIM_WAIT_MS = 1_000;
const RESULT = { exitCode: 0, signal: null, durationMs: 0 };

interface LeasedJob {
  id: string;
  attempt: number;
}

class Backlog {
  private waiting = 0;
  private wakeups: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async reserve(): Promise<void> {
    while (this.waiting >= this.limit) await new Promise<void>((resolve) => this.wakeups.push(resolve));
    this.waiting++;
  }

  release(): void {
    this.waiting--;
    this.wakeups.shift()?.();
  }

  releaseAll(): void {
    for (const wake of this.wakeups.splice(0)) wake();
  }
}

export async function runCycleLoad(url: string, options: CycleOptions): Promise<CycleResult> {
  const counter = new WindowCounter(options);
  const backlog = new Backlog(options.backlog);
  const enqueuedAt = new Map<string, number>();
  const stop = new AbortController();
  let claims = 0;
  let emptyClaims = 0;
  const pool = new RawHttpPool(url);
  stop.signal.addEventListener("abort", () => pool.close());
  const post = async <T>(path: string, body: unknown): Promise<T> => {
    const response = await pool.request(
      "POST",
      path,
      { "content-type": "application/json", "x-idempotency-key": newIdempotencyKey() },
      typeof body === "string" ? body : JSON.stringify(body),
    );
    if (response.status < 200 || response.status > 299) throw new Error(`POST ${path} answered ${response.status}: ${response.body}`);
    return JSON.parse(response.body) as T;
  };

  const enqueuer = async () => {
    while (counter.running) {
      await backlog.reserve();
      if (!counter.running) return;
      const startedAt = performance.now();
      const job = await post<{ id: string }>("/v1/jobs", JOB_BODY);
      enqueuedAt.set(job.id, startedAt);
    }
  };

  const host = async (index: number) => {
    const registered = await post<{ host: { id: string }; heartbeatMs: number }>("/v1/hosts/register", {
      name: `bench-host-${index}`,
      capabilities: ["shell"],
      slots: options.slotsPerHost,
      version: "bench",
    });
    const hostId = registered.host.id;
    const running = new Map<string, LeasedJob>();
    const heartbeat = setInterval(() => {
      const leases = [...running.values()].map((job) => ({ jobId: job.id, attempt: job.attempt }));
      void post(`/v1/hosts/${hostId}/heartbeat`, { running: leases }).catch(() => {});
    }, registered.heartbeatMs);
    const inFlight = new Set<Promise<void>>();
    let completionFailure: unknown;
    // The daemon's own reporter: one completion at once when none is in flight, the rest coalesced.
    const reporter = new CompletionReporter({
      send: (completions, claimSlots) =>
        post<CompleteJobsResponse>(`/v1/hosts/${hostId}/complete`, claimSlots > 0 ? { completions, claimSlots } : { completions }),
      claimSlots: (completions) => (counter.running ? completions : 0),
      onClaimed: (jobs) => take(jobs),
      onRevoked: () => (completionFailure ??= new Error(`bench host ${hostId} was revoked`)),
      // A refusal, or a report lost to an error: the run is invalid, unless the window had closed.
      log: (line) => {
        if (!stop.signal.aborted) completionFailure ??= new Error(line);
      },
    });
    /** Jobs leased to this host, by a claim or with a report: each "runs" and is reported at once. */
    const take = (jobs: readonly LeasedJob[]): void => {
      for (const job of jobs) {
        running.set(job.id, job);
        // Never rejects: the reporter settles every completion and reports failures to `log`.
        const completion: Promise<void> = complete(job).finally(() => inFlight.delete(completion));
        inFlight.add(completion);
      }
    };
    const complete = async (job: LeasedJob): Promise<void> => {
      // No retries: a bench host's lease view is already over when a report fails.
      await reporter.report({ jobId: job.id, attempt: job.attempt, status: "succeeded", result: RESULT }, () => 0);
      running.delete(job.id);
      backlog.release();
      const startedAt = enqueuedAt.get(job.id);
      enqueuedAt.delete(job.id);
      if (startedAt !== undefined) counter.done(startedAt);
    };
    try {
      while (counter.running) {
        const free = options.slotsPerHost - running.size;
        if (free === 0) {
          await Promise.race(inFlight);
          continue;
        }
        const { jobs } = await post<{ jobs: LeasedJob[] }>(`/v1/hosts/${hostId}/claim`, { slots: free, waitMs: CLAIM_WAIT_MS });
        if (counter.running) {
          claims++;
          if (jobs.length === 0) emptyClaims++;
        }
        take(jobs);
      }
      await Promise.all(inFlight);
      if (completionFailure !== undefined) throw completionFailure;
    } finally {
      clearInterval(heartbeat);
      await Promise.allSettled(inFlight);
    }
  };

  const hosts = Array.from({ length: options.hosts }, (_, index) => host(index));
  const enqueuers = Array.from({ length: options.enqueuers }, () => enqueuer());
  const ended = setTimeout(() => {
    // Parked long polls and gated enqueuers have nothing left to do once the window closes.
    backlog.releaseAll();
    stop.abort();
  }, counter.endsAt - performance.now() + 50);
  const outcomes = await Promise.allSettled([...hosts, ...enqueuers]);
  clearTimeout(ended);
  const failure = outcomes.find(
    (outcome): outcome is PromiseRejectedResult => outcome.status === "rejected" && !(stop.signal.aborted && isAbort(outcome.reason)),
  );
  if (failure !== undefined) throw failure.reason;
  return {
    cyclesPerSecond: counter.perSecond(),
    p50Ms: percentile(counter.latenciesMs, 0.5),
    p99Ms: percentile(counter.latenciesMs, 0.99),
    cpuMicros: counter.cpuMicrosPerOperation(),
    generatorCpuMicros: counter.generatorCpuMicrosPerOperation(),
    claims,
    emptyClaims,
  };
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}
