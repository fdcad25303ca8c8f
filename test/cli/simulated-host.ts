/**
 * A host played by the test through the HTTP API (register, claim, output, complete), so the
 * CLI's `--wait` and `jobs logs` can be tested without the host daemon and with exact control
 * over what a job "prints" and how it ends.
 */
import type { CompleteBody, Job } from "../../src/api";

export async function api<T>(url: string, method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(url + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

export class SimulatedHost {
  private constructor(
    readonly url: string,
    readonly hostId: string,
  ) {}

  static async register(url: string, capabilities: string[] = ["shell", "openclaw"]): Promise<SimulatedHost> {
    const { status, body } = await api<{ host: { id: string } }>(url, "POST", "/v1/hosts/register", {
      name: "simulated",
      capabilities,
      slots: 1,
      version: "test",
    });
    if (status !== 200) throw new Error(`register answered ${status}: ${JSON.stringify(body)}`);
    return new SimulatedHost(url, body.host.id);
  }

  /** Long-polls until a job is leased to this host. */
  async claim(waitMs = 15_000): Promise<Job> {
    const { status, body } = await api<{ jobs: Job[] }>(this.url, "POST", `/v1/hosts/${this.hostId}/claim`, { slots: 1, waitMs });
    if (status !== 200 || body.jobs.length === 0) throw new Error(`claim answered ${status}: ${JSON.stringify(body)}`);
    return body.jobs[0]!;
  }

  async output(job: Job, chunks: { stream: "stdout" | "stderr" | "system"; data: string }[]): Promise<void> {
    const { status, body } = await api(this.url, "POST", `/v1/jobs/${job.id}/output`, { hostId: this.hostId, attempt: job.attempt, chunks });
    if (status !== 200) throw new Error(`output answered ${status}: ${JSON.stringify(body)}`);
  }

  async complete(job: Job, status: CompleteBody["status"], result: Partial<CompleteBody["result"]> = {}): Promise<Job> {
    const answer = await api<Job>(this.url, "POST", `/v1/jobs/${job.id}/complete`, {
      hostId: this.hostId,
      attempt: job.attempt,
      status,
      result: { exitCode: null, signal: null, durationMs: 5, ...result },
    });
    if (answer.status !== 200) throw new Error(`complete answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  }
}
