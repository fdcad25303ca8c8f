/**
 * Enqueue throughput: `clients` concurrent HTTP clients, each POSTing /v1/jobs in a loop with
 * its own `x-idempotency-key` per request, as the CLI does. Only 201s inside the window count.
 */
import { percentile, WindowCounter, type Phase } from "./measure";

export interface EnqueueResult {
  jobsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
}

const JOB_BODY = JSON.stringify({ kind: "shell", command: "true", args: ["bench"] });

export async function runEnqueueLoad(url: string, options: { clients: number; runId: string } & Phase): Promise<EnqueueResult> {
  const counter = new WindowCounter(options);
  const client = async (clientIndex: number) => {
    for (let request = 0; counter.running; request++) {
      const startedAt = performance.now();
      const response = await fetch(`${url}/v1/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-idempotency-key": `${options.runId}-${clientIndex}-${request}` },
        body: JOB_BODY,
      });
      await response.arrayBuffer();
      if (response.status === 201) counter.done(startedAt);
      else counter.failed();
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, index) => client(index)));
  return {
    jobsPerSecond: counter.perSecond(),
    p50Ms: percentile(counter.latenciesMs, 0.5),
    p99Ms: percentile(counter.latenciesMs, 0.99),
    failures: counter.failureCount,
  };
}
