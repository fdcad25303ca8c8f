/**
 * A real coordinator in this process (ephemeral port, temp database, short timings) and real
 * host daemons against it, plus the waits the host tests share. Everything started here is
 * stopped by `stopAll()` (call it in afterEach/afterAll).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EnqueueBody, Job, OutputChunk } from "../../src/api";
import { TERMINAL_JOB_STATES } from "../../src/api";
import { SkyclawClient } from "../../src/client/skyclaw-client";
import { loadClientConfig, loadCoordinatorConfig, loadHostConfig, type HostConfig } from "../../src/config";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/server";
import { startHost, type RunningHost } from "../../src/host/daemon";

export const TIMINGS = {
  SKYCLAW_LEASE_MS: "2000",
  SKYCLAW_HEARTBEAT_MS: "200",
  SKYCLAW_CLAIM_WAIT_MS: "5000",
};

const dirs: string[] = [];
const hosts: RunningHost[] = [];
const coordinators: RunningCoordinator[] = [];

export function tempDir(prefix = "skyclaw-host-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export interface TestCoordinator extends RunningCoordinator {
  client: SkyclawClient;
}

export function startTestCoordinator(env: Record<string, string> = {}): TestCoordinator {
  const dir = tempDir("skyclaw-host-coord-");
  const coordinator = startCoordinator(
    loadCoordinatorConfig({ SKYCLAW_COORDINATOR_PORT: "0", SKYCLAW_DB_PATH: join(dir, "coordinator.db"), ...TIMINGS, ...env }),
  );
  let stopping: Promise<void> | undefined;
  const once = { ...coordinator, stop: () => (stopping ??= coordinator.stop()) };
  coordinators.push(once);
  const client = new SkyclawClient(loadClientConfig({ SKYCLAW_COORDINATOR_URL: coordinator.url, ...env }), { retryBudgetMs: 2_000 });
  return { ...once, client };
}

export function hostConfig(coordinatorUrl: string, env: Record<string, string> = {}): HostConfig {
  return loadHostConfig({
    SKYCLAW_COORDINATOR_URL: coordinatorUrl,
    SKYCLAW_HOST_STATE_DIR: join(tempDir("skyclaw-host-state-"), "host"),
    SKYCLAW_HOST_NAME: "test-host",
    SKYCLAW_ALLOWED_COMMANDS: "sh",
    SKYCLAW_KILL_GRACE_MS: "300",
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    ...TIMINGS,
    ...env,
  });
}

export interface TestHost extends RunningHost {
  lines: string[];
  config: HostConfig;
}

export async function startTestHost(config: HostConfig): Promise<TestHost> {
  const lines: string[] = [];
  const host = await startHost(config, { log: (line) => lines.push(line) });
  hosts.push(host);
  return { ...host, lines, config };
}

/** Waits (long-polling the output route, no sleeps) until the job is finished; returns it. */
export async function waitForEnd(client: SkyclawClient, jobId: string, timeoutMs = 15_000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  let after = 0;
  for (;;) {
    const page = await client.jobOutput(jobId, after, 1_000);
    after = page.lastSeq;
    if (TERMINAL_JOB_STATES.has(page.job.state)) return page.job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${page.job.state} after ${timeoutMs} ms`);
  }
}

/** Waits until the job's stored stdout contains `text` (the job printed it, so it is running). */
export async function waitForOutput(client: SkyclawClient, jobId: string, text: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let after = 0;
  let seen = "";
  for (;;) {
    const page = await client.jobOutput(jobId, after, 1_000);
    after = page.lastSeq;
    seen += page.chunks.map((chunk) => chunk.data).join("");
    if (seen.includes(text)) return;
    if (TERMINAL_JOB_STATES.has(page.job.state)) throw new Error(`job ${jobId} ended ${page.job.state} without printing "${text}"`);
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not print "${text}" within ${timeoutMs} ms`);
  }
}

export async function allOutput(client: SkyclawClient, jobId: string): Promise<OutputChunk[]> {
  const chunks: OutputChunk[] = [];
  let after = 0;
  for (;;) {
    const page = await client.jobOutput(jobId, after, 0);
    if (page.chunks.length === 0) return chunks;
    chunks.push(...page.chunks);
    after = page.lastSeq;
  }
}

export function shellJob(script: string, extra: Partial<EnqueueBody> = {}): EnqueueBody {
  return { kind: "shell", command: "sh", args: ["-c", script], maxAttempts: 1, ...extra };
}

/**
 * Whether a process with this PID is still running. A zombie is not: in containers whose PID 1
 * does not reap orphans, killed grandchildren stay zombies forever but run nothing.
 */
export function isRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  return state !== "Z" && state !== "X";
}

export function readPid(path: string): number {
  const pid = Number(readFileSync(path, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${path} holds no PID`);
  return pid;
}

/** Polling with a deadline, for conditions with no event to await (a log line, a PID gone, a host row). */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await Bun.sleep(20);
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all(hosts.splice(0).map((host) => host.shutdownNow()));
  await Promise.all(coordinators.splice(0).map((coordinator) => coordinator.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
