/** A host runs claimed jobs: output stored while it runs, exit codes reported, slots in parallel. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { allOutput, hostConfig, shellJob, startTestCoordinator, startTestHost, stopAll, tempDir, waitForEnd, type TestCoordinator } from "./harness";

let coordinator: TestCoordinator;
beforeEach(() => {
  coordinator = startTestCoordinator();
});
afterEach(stopAll);

describe("a host runs a job", () => {
  test("a job that exits 0 succeeds, and its stdout and stderr are stored", async () => {
    const host = await startTestHost(hostConfig(coordinator.url));
    const job = await coordinator.client.enqueue(shellJob("echo hello from skyclaw; echo oops >&2"));
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("succeeded");
    expect(done.hostId).toBeNull();
    expect(done.result).toMatchObject({ exitCode: 0, signal: null, stdoutTail: "hello from skyclaw\n", stderrTail: "oops\n", truncated: false });
    const chunks = await allOutput(coordinator.client, job.id);
    expect(chunks.filter((chunk) => chunk.stream === "stdout").map((chunk) => chunk.data).join("")).toBe("hello from skyclaw\n");
    expect(chunks.filter((chunk) => chunk.stream === "stderr").map((chunk) => chunk.data).join("")).toBe("oops\n");
    expect(chunks.every((chunk) => chunk.attempt === 1)).toBe(true);
    // The job's fresh working directory is gone afterwards.
    expect(readdirSync(join(host.config.stateDir, "jobs"))).toEqual([]);
  });

  test("a non-zero exit fails the job with its exit code", async () => {
    await startTestHost(hostConfig(coordinator.url));
    const job = await coordinator.client.enqueue(shellJob("echo about to fail; exit 7"));
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("failed");
    expect(done.result).toMatchObject({ exitCode: 7, signal: null, stdoutTail: "about to fail\n" });
    expect(done.lastError).toContain("exit code 7");
  });

  test("a job runs in its own empty directory with a small environment and none of the host's settings", async () => {
    await startTestHost(hostConfig(coordinator.url, { SKYCLAW_TOKEN: "host-secret" }));
    const job = await coordinator.client.enqueue(shellJob("pwd; ls -A | wc -l; env | sort", { env: { GREETING: "hi" }, cwd: "sub/dir" }));
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("succeeded");
    const [pwd, entries, ...envLines] = done.result!.stdoutTail!.trim().split("\n");
    expect(pwd).toEndWith(`/jobs/${job.id}-1/sub/dir`);
    expect(entries!.trim()).toBe("0");
    const env = Object.fromEntries(envLines.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
    expect(env.HOME).toEndWith(`/jobs/${job.id}-1`);
    expect(env.TERM).toBe("dumb");
    expect(env.GREETING).toBe("hi");
    expect(env.PATH).toBe(process.env.PATH!);
    expect(done.result!.stdoutTail).not.toContain("SKYCLAW");
    expect(done.result!.stdoutTail).not.toContain("host-secret");
    // Only the base, the job's own variable and what sh itself adds.
    const expected = ["GREETING", "HOME", "LANG", "PATH", "TERM", "PWD", "OLDPWD", "SHLVL", "_"];
    expect(Object.keys(env).filter((name) => !expected.includes(name))).toEqual([]);
  });

  test("the job's directory is removed after the run, unless the job asks to keep it", async () => {
    const host = await startTestHost(hostConfig(coordinator.url));
    const removed = await coordinator.client.enqueue(shellJob("echo data > file"));
    const kept = await coordinator.client.enqueue(shellJob("echo data > file", { keepWorkdir: true }));
    expect((await waitForEnd(coordinator.client, removed.id)).state).toBe("succeeded");
    expect((await waitForEnd(coordinator.client, kept.id)).state).toBe("succeeded");
    expect(existsSync(join(host.config.stateDir, "jobs", `${removed.id}-1`))).toBe(false);
    expect(readFileSync(join(host.config.stateDir, "jobs", `${kept.id}-1`, "file"), "utf8")).toBe("data\n");
  });

  test("jobs in different slots run at the same time", async () => {
    await startTestHost(hostConfig(coordinator.url, { SKYCLAW_MAX_PARALLEL: "2" }));
    const dir = tempDir();
    // Each job announces itself, then waits for the other: both succeed only if they overlapped.
    const meet = (me: string, other: string) =>
      shellJob(`touch "$DIR/${me}"; while [ ! -e "$DIR/${other}" ]; do sleep 0.02; done; echo met ${other}`, { env: { DIR: dir }, timeoutMs: 10_000 });
    const first = await coordinator.client.enqueue(meet("a", "b"));
    const second = await coordinator.client.enqueue(meet("b", "a"));
    const [a, b] = await Promise.all([waitForEnd(coordinator.client, first.id), waitForEnd(coordinator.client, second.id)]);
    expect([a.state, b.state]).toEqual(["succeeded", "succeeded"]);
    expect(a.result?.stdoutTail).toBe("met b\n");
    expect(b.result?.stdoutTail).toBe("met a\n");
    expect(existsSync(join(dir, "a")) && existsSync(join(dir, "b"))).toBe(true);
  });

  test("a host with one slot runs one job at a time", async () => {
    await startTestHost(hostConfig(coordinator.url, { SKYCLAW_MAX_PARALLEL: "1" }));
    const dir = tempDir();
    // The second job fails unless the first one had finished before it started.
    const first = await coordinator.client.enqueue(shellJob(`sleep 0.3; touch "$DIR/first-done"`, { env: { DIR: dir } }));
    const second = await coordinator.client.enqueue(shellJob(`[ -e "$DIR/first-done" ]`, { env: { DIR: dir } }));
    const [a, b] = await Promise.all([waitForEnd(coordinator.client, first.id), waitForEnd(coordinator.client, second.id)]);
    expect([a.state, b.state]).toEqual(["succeeded", "succeeded"]);
  });
});
