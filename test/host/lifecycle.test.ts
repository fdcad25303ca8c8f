/** The daemon's lifecycle: drain (local and remote), shutting down now, and a stable identity across restarts. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { eventually, hostConfig, isRunning, readPid, shellJob, startTestCoordinator, startTestHost, stopAll, tempDir, waitForEnd, waitForOutput, type TestCoordinator } from "./harness";

let coordinator: TestCoordinator;
beforeEach(() => {
  coordinator = startTestCoordinator();
});
afterEach(stopAll);

describe("drain", () => {
  test("stops claiming, lets the running job finish and report, then resolves stopped", async () => {
    const host = await startTestHost(hostConfig(coordinator.url, { SKYCLAW_MAX_PARALLEL: "2" }));
    const dir = tempDir();
    const running = await coordinator.client.enqueue(shellJob(`echo started; while [ ! -e "$DIR/go" ]; do sleep 0.02; done; echo finished`, { env: { DIR: dir } }));
    await waitForOutput(coordinator.client, running.id, "started");

    const drained = host.drain();
    // Drain is visible on the coordinator before the job is allowed to finish.
    await eventually(async () => (await coordinator.client.listHosts()).hosts[0]?.state === "draining");
    const later = await coordinator.client.enqueue(shellJob("echo should not run"));
    await Bun.write(join(dir, "go"), "");
    await drained;
    await host.stopped;

    const done = await coordinator.client.getJob(running.id);
    expect(done.state).toBe("succeeded");
    expect(done.result?.stdoutTail).toBe("started\nfinished\n");
    expect((await coordinator.client.getJob(later.id)).state).toBe("queued");
  });

  test("a drain asked for on the coordinator stops the host", async () => {
    const host = await startTestHost(hostConfig(coordinator.url));
    await coordinator.client.drainHost(host.hostId);
    await host.stopped;
    expect(host.lines.join("\n")).toContain("asked this host to drain");
  });
});

describe("shutdown now", () => {
  test("stops running jobs and reports them cancelled", async () => {
    const host = await startTestHost(hostConfig(coordinator.url));
    const dir = tempDir();
    const job = await coordinator.client.enqueue(shellJob(`echo $$ > "$DIR/job.pid"; echo ready; exec sleep 60`, { env: { DIR: dir } }));
    await waitForOutput(coordinator.client, job.id, "ready");
    await host.shutdownNow();
    await host.stopped;
    const done = await coordinator.client.getJob(job.id);
    expect(done.state).toBe("cancelled");
    expect(done.result).toMatchObject({ reason: "host_shutdown", signal: "SIGTERM" });
    expect(isRunning(readPid(join(dir, "job.pid")))).toBe(false);
  });
});

describe("identity", () => {
  test("a restarted host registers under the same id, kept in host.json readable only by its owner", async () => {
    const config = hostConfig(coordinator.url);
    const first = await startTestHost(config);
    await first.drain();
    const identityFile = join(config.stateDir, "host.json");
    // With the host credential the coordinator issued at registration (shown once).
    expect(JSON.parse(readFileSync(identityFile, "utf8"))).toEqual({ hostId: first.hostId, credential: expect.stringMatching(/^skyclaw-host-/) });
    expect(statSync(identityFile).mode & 0o777).toBe(0o600);

    const second = await startTestHost(config);
    expect(second.hostId).toBe(first.hostId);
    const { hosts } = await coordinator.client.listHosts();
    expect(hosts.map((host) => [host.id, host.state])).toEqual([[first.hostId, "active"]]);
    // And it works as before.
    const job = await coordinator.client.enqueue(shellJob("echo again"));
    expect((await waitForEnd(coordinator.client, job.id)).state).toBe("succeeded");
  });

  test("a host the coordinator forgot (a fresh database) registers again under its id", async () => {
    const host = await startTestHost(hostConfig(coordinator.url));
    await coordinator.stop();
    const fresh = startTestCoordinator({ SKYCLAW_COORDINATOR_PORT: String(coordinator.port) });
    await eventually(() => host.lines.some((line) => line.includes("registered again")));
    expect((await fresh.client.listHosts()).hosts.map((entry) => entry.id)).toEqual([host.hostId]);
    const job = await fresh.client.enqueue(shellJob("echo still here"));
    expect((await waitForEnd(fresh.client, job.id)).state).toBe("succeeded");
  });

  test("another state directory is another host", async () => {
    const first = await startTestHost(hostConfig(coordinator.url));
    const second = await startTestHost(hostConfig(coordinator.url));
    expect(second.hostId).not.toBe(first.hostId);
  });
});

describe("coordinator failover", () => {
  test("a host given a dead coordinator first registers and runs jobs through the next one", async () => {
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("down", { status: 503 }) });
    try {
      const host = await startTestHost(hostConfig(coordinator.url, { SKYCLAW_COORDINATOR_URL: "", SKYCLAW_COORDINATOR_URLS: `http://127.0.0.1:${dead.port},${coordinator.url}` }));
      const job = await coordinator.client.enqueue(shellJob("echo via failover"));
      const done = await waitForEnd(coordinator.client, job.id);
      expect(done.state).toBe("succeeded");
      expect(done.result?.stdoutTail).toBe("via failover\n");
      expect(host.lines.join("\n")).toContain(`coordinator http://127.0.0.1:${dead.port} failed`);
    } finally {
      dead.stop(true);
    }
  });
});
