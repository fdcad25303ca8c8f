/**
 * Enqueue throughput: `clients` concurrent HTTP clients, each POSTing /v1/jobs in a loop with
 * its own `x-idempotency-key` per request, made the way the Skyclaw client makes them (or,
 * with `idempotencyKeys: false`, without one, as a plain `curl -X POST` does). Only 201s inside
 * the window count.
 */
import { newIdempotencyKey } from "../src/client/http";
import { percentile, WindowCounter, type Phase } from "./measure";

export interface EnqueueResult {
  jobsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Coordinator CPU time per counted operation. */
  cpuMicros: number;
  failures: number;
}

const JOB_BODY = JSON.stringify({ kind: "shell", command: "true", args: ["bench"] });

export async function runEnqueueLoad(url: string, options: { clients: number; idempotencyKeys?: boolean } & Phase): Promise<EnqueueResult> {
  const withKeys = options.idempotencyKeys ?? true;
  const counter = new WindowCounter(options);
  const client = async () => {
    while (counter.running) {
      const startedAt = performance.now();
      const response = await fetch(`${url}/v1/jobs`, {
        method: "POST",
        headers: withKeys ? { "content-type": "application/json", "x-idempotency-key": newIdempotencyKey() } : { "content-type": "application/json" },
        body: JOB_BODY,
      });
      await response.arrayBuffer();
      if (response.status === 201) counter.done(startedAt);
      else counter.failed();
    }
  };
  await Promise.all(Array.from({ length: options.clients }, () => client()));
  return {
    jobsPerSecond: counter.perSecond(),
    p50Ms: percentile(counter.latenciesMs, 0.5),
    p99Ms: percentile(counter.latenciesMs, 0.99),
    cpuMicros: counter.cpuMicrosPerOperation(),
    failures: counter.failureCount,
  };
}
