/**
 * Stopping jobs: timeout and cancel stop the whole process group (a grandchild that ignores
 * SIGTERM included); a host that can no longer renew a lease kills the job and reports nothing.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { eventually, hostConfig, isRunning, readPid, shellJob, startTestCoordinator, startTestHost, stopAll, tempDir, waitForEnd, waitForOutput, type TestCoordinator } from "./harness";
import { startFlakyProxy, type FlakyProxy } from "./flaky-proxy";

let coordinator: TestCoordinator;
let proxy: FlakyProxy | undefined;
beforeEach(() => {
  coordinator = startTestCoordinator();
});
afterEach(async () => {
  proxy?.stop();
  proxy = undefined;
  await stopAll();
});

/** A job whose child starts a grandchild that ignores SIGTERM; both PIDs land in $DIR, then it says "ready". */
const STUBBORN_FAMILY = [
  `sh -c 'trap "" TERM; echo $$ > "$DIR/grandchild.pid"; exec sleep 60' &`,
  `echo $$ > "$DIR/child.pid"`,
  `while [ ! -s "$DIR/grandchild.pid" ]; do sleep 0.01; done`,
  `echo ready`,
  `wait`,
].join("\n");

describe("stopping a job stops its whole process group", () => {
  test("a timeout kills the job and its SIGTERM-ignoring grandchild, and fails it with reason timeout", async () => {
    await startTestHost(hostConfig(coordinator.url));
    const dir = tempDir();
    const job = await coordinator.client.enqueue(shellJob(STUBBORN_FAMILY, { env: { DIR: dir }, timeoutMs: 1_000 }));
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("failed");
    expect(done.result).toMatchObject({ reason: "timeout", exitCode: null, signal: "SIGTERM", stdoutTail: "ready\n" });
    expect(done.result?.message).toContain("1000 ms");
    expect(isRunning(readPid(join(dir, "child.pid")))).toBe(false);
    expect(isRunning(readPid(join(dir, "grandchild.pid")))).toBe(false);
  });

  test("a cancel reaches the host within a heartbeat and ends the job cancelled", async () => {
    await startTestHost(hostConfig(coordinator.url));
    const dir = tempDir();
    const job = await coordinator.client.enqueue(shellJob(STUBBORN_FAMILY, { env: { DIR: dir } }));
    await waitForOutput(coordinator.client, job.id, "ready");
    await coordinator.client.cancelJob(job.id, "changed my mind");
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("cancelled");
    expect(done.result).toMatchObject({ reason: "cancelled", signal: "SIGTERM" });
    expect(isRunning(readPid(join(dir, "child.pid")))).toBe(false);
    expect(isRunning(readPid(join(dir, "grandchild.pid")))).toBe(false);
  });

  test("processes a finished job left behind are stopped too", async () => {
    await startTestHost(hostConfig(coordinator.url));
    const dir = tempDir();
    const job = await coordinator.client.enqueue(shellJob(`(trap "" TERM; echo $$ > "$DIR/orphan.pid"; exec sleep 60) >/dev/null 2>&1 & while [ ! -s "$DIR/orphan.pid" ]; do sleep 0.01; done`, { env: { DIR: dir } }));
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("succeeded");
    expect(isRunning(readPid(join(dir, "orphan.pid")))).toBe(false);
  });
});

describe("a lost lease", () => {
  test("a host whose heartbeats fail kills the job when its lease runs out and does not complete it", async () => {
    proxy = startFlakyProxy(coordinator.url);
    const host = await startTestHost(hostConfig(proxy.url));
    const dir = tempDir();
    const job = await coordinator.client.enqueue(shellJob(`echo $$ > "$DIR/job.pid"; echo ready; exec sleep 60`, { env: { DIR: dir } }));
    await waitForOutput(coordinator.client, job.id, "ready");
    proxy.failHeartbeats = true;
    // With one attempt, the coordinator's own expiry makes the job dead; a completion would have made it failed or succeeded.
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("dead");
    expect(done.result).toBeNull();
    expect(done.lastError).toContain("expired");
    expect(isRunning(readPid(join(dir, "job.pid")))).toBe(false);
    expect(host.lines.join("\n")).toContain("could not renew its lease in time");
    expect(proxy.completions).toBe(0);
  });

  test("the coordinator saying the lease is lost stops the job without a completion", async () => {
    proxy = startFlakyProxy(coordinator.url);
    const host = await startTestHost(hostConfig(proxy.url));
    const dir = tempDir();
    const job = await coordinator.client.enqueue(shellJob(`echo $$ > "$DIR/job.pid"; echo ready; exec sleep 60`, { env: { DIR: dir } }));
    await waitForOutput(coordinator.client, job.id, "ready");
    proxy.reportLost = true;
    await waitForLine(host.lines, "no longer holds its lease");
    const pid = readPid(join(dir, "job.pid"));
    await eventually(() => !isRunning(pid));
    await waitForLine(host.lines, "stopped without reporting");
    expect(proxy.completions).toBe(0);
  });
});

async function waitForLine(lines: string[], text: string): Promise<void> {
  await eventually(() => lines.some((line) => line.includes(text)));
}
