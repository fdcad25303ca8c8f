/**
 * Enqueue throughput: `clients` concurrent HTTP/1.1 keep-alive clients, each POSTing /v1/jobs in
 * a loop and waiting for each answer, with its own `x-idempotency-key` per request as the
 * Skyclaw client sends (or, with `idempotencyKeys: false`, without one, as a plain
 * `curl -X POST` does). Only 201s inside the window count. Clients are lean (raw-http.ts).
 */
import { newIdempotencyKey } from "../src/client/http";
import { percentile, WindowCounter, type Phase } from "./measure";
import { RawHttpConnection } from "../src/client/raw-http";

export interface EnqueueResult {
  jobsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Coordinator CPU time per counted operation. */
  cpuMicros: number;
  /** The load generator's own CPU time per counted operation. */
  generatorCpuMicros: number;
  failures: number;
}

const JOB_BODY = JSON.stringify({ kind: "shell", command: "true", args: ["bench"] });
const JSON_HEADERS = { "content-type": "application/json" };

export async function runEnqueueLoad(url: string, options: { clients: number; idempotencyKeys?: boolean } & Phase): Promise<EnqueueResult> {
  const withKeys = options.idempotencyKeys ?? true;
  const connections = await Promise.all(Array.from({ length: options.clients }, () => RawHttpConnection.open(url)));
  const counter = new WindowCounter(options);
  const client = async (connection: RawHttpConnection) => {
    while (counter.running) {
      const startedAt = performance.now();
      const headers = withKeys ? { ...JSON_HEADERS, "x-idempotency-key": newIdempotencyKey() } : JSON_HEADERS;
      const response = await connection.request("POST", "/v1/jobs", headers, JOB_BODY).catch(() => null);
      if (response?.status === 201) counter.done(startedAt);
      else counter.failed();
      // A refused connection is not retried: a failure ends the run's count (the caller decides).
      if (response === null) return;
    }
  };
  try {
    await Promise.all(connections.map(client));
  } finally {
    for (const connection of connections) connection.close();
  }
  return {
    jobsPerSecond: counter.perSecond(),
    p50Ms: percentile(counter.latenciesMs, 0.5),
    p99Ms: percentile(counter.latenciesMs, 0.99),
    cpuMicros: counter.cpuMicrosPerOperation(),
    generatorCpuMicros: counter.generatorCpuMicrosPerOperation(),
    failures: counter.failureCount,
  };
}
