/** `skyclaw jobs list|get|cancel|logs` and `skyclaw hosts` against a real coordinator process. */
import { afterAll, setDefaultTimeout, beforeAll, describe, expect, test } from "bun:test";
import type { Host, Job, JobList } from "../../src/api";
import { killAll, runCli, startCli, startCoordinatorProcess, type CoordinatorProcess } from "../helpers/processes";
import { api, SimulatedHost } from "./simulated-host";

let coordinator: CoordinatorProcess;
let env: Record<string, string>;

beforeAll(async () => {
  coordinator = await startCoordinatorProcess();
  env = { SKYCLAW_COORDINATOR_URL: coordinator.url };
});
afterAll(killAll);
// bunfig's [test] timeout is not applied by bun 1.4.5; these tests spawn real processes.
setDefaultTimeout(20_000);

async function enqueue(body: Record<string, unknown>): Promise<Job> {
  const { status, body: job } = await api<Job>(coordinator.url, "POST", "/v1/jobs", { kind: "shell", command: "echo", ...body });
  expect(status).toBe(201);
  return job;
}

describe("jobs", () => {
  test("list shows a table, newest first; --state filters; --limit pages with a cursor; --json", async () => {
    const older = await enqueue({ id: "list-old", args: ["old"] });
    const newer = await enqueue({ id: "list-new", args: ["new one"] });
    await api(coordinator.url, "POST", `/v1/jobs/${older.id}/cancel`, {});

    const table = await runCli(["jobs", "list"], { env });
    expect(table.exitCode).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+STATE\s+KIND/);
    expect(lines.findIndex((line) => line.startsWith("list-new"))).toBeLessThan(lines.findIndex((line) => line.startsWith("list-old")));
    expect(lines.find((line) => line.startsWith("list-new"))).toMatch(/queued\s+shell.*echo 'new one'$/);

    const cancelled = await runCli(["jobs", "list", "--state", "cancelled", "--json"], { env });
    expect(cancelled.exitCode).toBe(0);
    const page = JSON.parse(cancelled.stdout) as JobList;
    expect(page.jobs.map((job) => job.id)).toContain(older.id);
    expect(page.jobs.every((job) => job.state === "cancelled")).toBe(true);

    const first = JSON.parse((await runCli(["jobs", "list", "--limit", "1", "--json"], { env })).stdout) as JobList;
    expect(first.jobs.map((job) => job.id)).toEqual([newer.id]);
    expect(first.nextCursor).not.toBeNull();
    const second = JSON.parse((await runCli(["jobs", "list", "--limit", "1", "--cursor", first.nextCursor!, "--json"], { env })).stdout) as JobList;
    expect(second.jobs.map((job) => job.id)).toEqual([older.id]);
  });

  test("get shows a job readably, or as JSON", async () => {
    const job = await enqueue({ id: "get-me", command: "bash", args: ["-lc", "echo hi"], priority: 7 });
    const readable = await runCli(["jobs", "get", job.id], { env });
    expect(readable.exitCode).toBe(0);
    expect(readable.stdout).toMatch(/^id:\s+get-me$/m);
    expect(readable.stdout).toMatch(/^state:\s+queued$/m);
    expect(readable.stdout).toMatch(/^command:\s+bash -lc 'echo hi'$/m);
    expect(readable.stdout).toMatch(/^priority:\s+7$/m);

    const asJson = await runCli(["jobs", "get", "--json", job.id], { env });
    expect(JSON.parse(asJson.stdout)).toEqual(job);
  });

  test("get of an unknown job exits 1 with the coordinator's message", async () => {
    const result = await runCli(["jobs", "get", "nope"], { env });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe('skyclaw: id: no job with id "nope" (HTTP 404 not_found)\n');
  });

  test("cancel cancels a queued job and records the reason; cancelling a finished job is refused", async () => {
    const job = await enqueue({ id: "cancel-me" });
    const result = await runCli(["jobs", "cancel", job.id, "--reason", "changed my mind"], { env });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("cancel-me: cancelled\n");
    const stored = await api<Job>(coordinator.url, "GET", "/v1/jobs/cancel-me");
    expect(stored.body.state).toBe("cancelled");
    expect(stored.body.lastError).toContain("changed my mind");

    const host = await SimulatedHost.register(coordinator.url);
    // The top priority makes it the job the simulated host claims, ahead of other tests' jobs.
    const done = await enqueue({ id: "already-done", priority: 1_000 });
    await host.complete(await host.claim(), "succeeded", { exitCode: 0 });
    const refused = await runCli(["jobs", "cancel", done.id], { env });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/^skyclaw: .*already finished as succeeded.*\(HTTP 409/);
  });

  test("logs prints stored stdout to stdout and stderr to stderr; -f follows until the job ends", async () => {
    const host = await SimulatedHost.register(coordinator.url);
    await enqueue({ id: "logs-job", priority: 1_000 });
    const job = await host.claim();
    await host.output(job, [
      { stream: "stdout", data: "out 1\n" },
      { stream: "stderr", data: "err 1\n" },
    ]);

    const stored = await runCli(["jobs", "logs", job.id], { env });
    expect(stored.exitCode).toBe(0);
    expect(stored.stdout).toBe("out 1\n");
    expect(stored.stderr).toBe("err 1\n");

    const following = startCli(["jobs", "logs", "-f", job.id], { env });
    await following.stdout.waitFor(/out 1\n/, 10_000);
    await host.output(job, [{ stream: "stdout", data: "out 2\n" }]);
    // Printed while the job still runs: it is followed live, not read at the end.
    await following.stdout.waitFor(/out 2\n/, 10_000);
    await host.complete(job, "succeeded", { exitCode: 0 });
    expect(await following.exited).toBe(0);
    expect(following.stdout.text()).toBe("out 1\nout 2\n");
    expect(following.stderr.text()).toBe("err 1\n");
  });
});

describe("hosts", () => {
  test("list shows registered hosts as a table or JSON; drain marks one draining", async () => {
    const host = await SimulatedHost.register(coordinator.url, ["hosts-test"]);
    const table = await runCli(["hosts"], { env });
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+STATE/);
    expect(table.stdout).toMatch(new RegExp(`^${host.hostId}\\s+simulated\\s+active\\s+1\\s+0\\s+.*hosts-test$`, "m"));

    const asJson = JSON.parse((await runCli(["hosts", "list", "--json"], { env })).stdout) as { hosts: Host[] };
    expect(asJson.hosts.map((entry) => entry.id)).toContain(host.hostId);

    const drained = await runCli(["hosts", "drain", host.hostId], { env });
    expect(drained.exitCode).toBe(0);
    expect(drained.stdout).toBe(`${host.hostId}: draining\n`);
    const stored = await api<Host>(coordinator.url, "GET", `/v1/hosts/${host.hostId}`);
    expect(stored.body.state).toBe("draining");

    const unknown = await runCli(["hosts", "drain", "no-such-host"], { env });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/^skyclaw: .*no host with id "no-such-host".*\(HTTP 404/);
  });
});
