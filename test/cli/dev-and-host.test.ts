/** `skyclaw dev` and `skyclaw host` as real processes running real jobs. */
import { afterAll, setDefaultTimeout, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Job } from "../../src/api";
import { isGone, killAll, runCli, startCli, startCoordinatorProcess, tempDir } from "../helpers/processes";
import { api } from "./simulated-host";

afterAll(killAll);
// bunfig's [test] timeout is not applied by bun 1.4.5; these tests spawn real processes.
setDefaultTimeout(20_000);

describe("skyclaw dev", () => {
  test("runs a coordinator and a host in one process; an enqueued echo succeeds; SIGTERM stops it", async () => {
    const dir = tempDir("skyclaw-dev-");
    const dev = startCli(["dev"], { cwd: dir, env: { SKYCLAW_COORDINATOR_PORT: "0" } });
    const url = await dev.stderr.waitFor(/try: SKYCLAW_COORDINATOR_URL=(\S+) skyclaw enqueue-shell --wait /, 15_000);
    expect(dev.stderr.text()).toContain(`coordinator listening on ${url}`);
    expect(existsSync(join(dir, ".skyclaw", "dev.db"))).toBe(true);

    const env = { SKYCLAW_COORDINATOR_URL: url };
    const result = await runCli(["enqueue-shell", "--wait", "echo", "hello from dev"], { env });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("hello from dev\n");
    expect(result.exitCode).toBe(0);
    const { body } = await api<{ jobs: Job[] }>(url, "GET", "/v1/jobs");
    expect(body.jobs.map((job) => [job.spec.command, job.state])).toEqual([["echo", "succeeded"]]);

    dev.process.kill("SIGTERM");
    expect(await dev.exited).toBe(0);
    expect(isGone(dev.pid)).toBe(true);
  }, 30_000);
});

describe("skyclaw host", () => {
  test("claims and runs jobs for --wait (exit code, output, timeout 124); SIGTERM drains and exits 0", async () => {
    const coordinator = await startCoordinatorProcess();
    const host = startCli(["host"], {
      env: {
        SKYCLAW_COORDINATOR_URL: coordinator.url,
        SKYCLAW_ALLOWED_COMMANDS: "sh",
        SKYCLAW_HOST_STATE_DIR: join(tempDir("skyclaw-host-"), "state"),
        SKYCLAW_KILL_GRACE_MS: "200",
      },
    });
    await host.stderr.waitFor(/registered as/, 15_000);
    const env = { SKYCLAW_COORDINATOR_URL: coordinator.url };

    const failing = await runCli(["enqueue-shell", "--wait", "sh", "-c", "echo out; echo err >&2; exit 7"], { env });
    expect(failing.exitCode).toBe(7);
    expect(failing.stdout).toBe("out\n");
    expect(failing.stderr).toStartWith("err\n");

    const slow = await runCli(["enqueue-shell", "--wait", "--timeout", "300ms", "sh", "-c", "sleep 30"], { env });
    expect(slow.exitCode).toBe(124);
    expect(slow.stderr).toMatch(/skyclaw: job \S+ failed/);

    host.process.kill("SIGTERM");
    expect(await host.exited).toBe(0);
    expect(isGone(host.pid)).toBe(true);
  }, 30_000);
});
