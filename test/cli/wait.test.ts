/**
 * `enqueue-* --wait` with a host simulated over the HTTP API: output streamed as it arrives,
 * and the exit code a CI step would see for each way a job can end.
 */
import { afterAll, setDefaultTimeout, beforeAll, describe, expect, test } from "bun:test";
import type { Job } from "../../src/api";
import { killAll, runCli, startCli, startCoordinatorProcess, type CoordinatorProcess } from "../helpers/processes";
import { api, SimulatedHost } from "./simulated-host";

let coordinator: CoordinatorProcess;
let host: SimulatedHost;
let env: Record<string, string>;

beforeAll(async () => {
  coordinator = await startCoordinatorProcess();
  host = await SimulatedHost.register(coordinator.url);
  env = { SKYCLAW_COORDINATOR_URL: coordinator.url };
});
afterAll(killAll);
// bunfig's [test] timeout is not applied by bun 1.4.5; these tests spawn real processes.
setDefaultTimeout(20_000);

describe("--wait", () => {
  test("streams stdout and stderr while the job runs and exits with the job's exit code", async () => {
    const cli = startCli(["enqueue-shell", "--wait", "bash", "-lc", "echo one; echo two >&2; exit 3"], { env });
    const job = await host.claim();
    expect(job.spec.args).toEqual(["-lc", "echo one; echo two >&2; exit 3"]);
    await host.output(job, [{ stream: "stdout", data: "one\n" }]);
    // Seen before the job ends: streamed, not printed at the end.
    await cli.stdout.waitFor(/one\n/, 10_000);
    await host.output(job, [{ stream: "stderr", data: "two\n" }]);
    await cli.stderr.waitFor(/two\n/, 10_000);
    await host.complete(job, "failed", { exitCode: 3 });

    expect(await cli.exited).toBe(3);
    expect(cli.stdout.text()).toBe("one\n");
    expect(cli.stderr.text()).toStartWith("two\n");
    expect(cli.stderr.text()).toContain(`skyclaw: job ${job.id} failed`);
  });

  test("exits 0 when the job succeeds", async () => {
    const cli = startCli(["enqueue-shell", "--wait", "echo", "ok"], { env });
    const job = await host.claim();
    await host.output(job, [{ stream: "stdout", data: "ok\n" }]);
    await host.complete(job, "succeeded", { exitCode: 0 });
    expect(await cli.exited).toBe(0);
    expect(cli.stdout.text()).toBe("ok\n");
    expect(cli.stderr.text()).toBe("");
  });

  test("a timeout exits 124, a cancelled job 130, a job refused by the host 125, a killed job 128+N", async () => {
    const endings: [Parameters<SimulatedHost["complete"]>[1], Parameters<SimulatedHost["complete"]>[2], number][] = [
      ["failed", { exitCode: null, signal: "SIGTERM", reason: "timeout" }, 124],
      ["cancelled", { exitCode: null, signal: "SIGTERM", reason: "cancelled" }, 130],
      ["failed", { reason: "not_allowed", message: "command is not allowed" }, 125],
      ["failed", { signal: "SIGKILL" }, 137],
    ];
    for (const [status, result, exitCode] of endings) {
      const cli = startCli(["enqueue-shell", "--wait", "sleep", "60"], { env });
      await host.complete(await host.claim(), status, result);
      expect(await cli.exited).toBe(exitCode);
    }
  });

  test("a job cancelled with `skyclaw jobs cancel` while it runs ends the wait with 130", async () => {
    const cli = startCli(["enqueue-shell", "--wait", "sleep", "60"], { env });
    const job = await host.claim();
    const cancelled = await runCli(["jobs", "cancel", job.id], { env });
    expect(cancelled.stdout).toBe(`${job.id}: cancel requested; host ${host.hostId} will stop it\n`);
    await host.complete(job, "cancelled", { signal: "SIGTERM", reason: "cancelled" });
    expect(await cli.exited).toBe(130);
  });

  test("SIGINT to a waiting CLI cancels the job, then reports how it ended", async () => {
    const cli = startCli(["enqueue-shell", "--wait", "sleep", "60"], { env });
    const job = await host.claim();
    await host.output(job, [{ stream: "stdout", data: "started\n" }]);
    await cli.stdout.waitFor(/started\n/, 10_000);
    cli.process.kill("SIGINT");
    await cli.stderr.waitFor(/cancelling job/, 10_000);
    // The cancel request is an HTTP call the CLI makes in the background: poll for its effect.
    const deadline = Date.now() + 10_000;
    let stored = (await api<Job>(coordinator.url, "GET", `/v1/jobs/${job.id}`)).body;
    while (stored.cancelRequestedAt === null && Date.now() < deadline) {
      await Bun.sleep(20);
      stored = (await api<Job>(coordinator.url, "GET", `/v1/jobs/${job.id}`)).body;
    }
    expect(stored.lastError).toContain("the submitter stopped waiting");
    await host.complete(job, "cancelled", { signal: "SIGTERM", reason: "cancelled" });
    expect(await cli.exited).toBe(130);
  });

  test("--wait --json prints only the finished job as JSON, and still exits with its code", async () => {
    const cli = startCli(["enqueue-shell", "--wait", "--json", "sh", "-c", "exit 4"], { env });
    const job = await host.claim();
    await host.output(job, [{ stream: "stdout", data: "not printed\n" }]);
    await host.complete(job, "failed", { exitCode: 4 });
    expect(await cli.exited).toBe(4);
    const printed = JSON.parse(cli.stdout.text()) as Job;
    expect(printed).toMatchObject({ id: job.id, state: "failed", result: { exitCode: 4 } });
  });

  test("an OpenClaw agent job prints its final answer, and exits 1 when the envelope says ok: false", async () => {
    const good = startCli(["enqueue-openclaw", "--wait", "--message", "Summarize"], { env });
    const goodJob = await host.claim();
    await host.output(goodJob, [{ stream: "stdout", data: '{"ok":true,"final":"All quiet."}' }]);
    await host.complete(goodJob, "succeeded", { exitCode: 0, openclaw: { ok: true, status: "done", final: "All quiet." } });
    expect(await good.exited).toBe(0);
    expect(good.stdout.text()).toBe("All quiet.\n");

    const bad = startCli(["enqueue-openclaw", "--wait", "--message", "Summarize"], { env });
    const badJob = await host.claim();
    await host.complete(badJob, "failed", { exitCode: 0, openclaw: { ok: false, status: "error", final: "Model unavailable." } });
    expect(await bad.exited).toBe(1);
    expect(bad.stdout.text()).toBe("Model unavailable.\n");
  });

  test("follows through failover: a dead coordinator first in SKYCLAW_COORDINATOR_URLS", async () => {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const dead = `http://127.0.0.1:${server.port}`;
    server.stop(true);
    const cli = startCli(["enqueue-shell", "--wait", "echo", "via failover"], {
      env: { SKYCLAW_COORDINATOR_URLS: `${dead},${coordinator.url}` },
    });
    const job = await host.claim();
    await host.output(job, [{ stream: "stdout", data: "via failover\n" }]);
    await host.complete(job, "failed", { exitCode: 9 });
    expect(await cli.exited).toBe(9);
    expect(cli.stdout.text()).toBe("via failover\n");
  });
});
