/** `skyclaw coordinator` as a real process: refusing a bad configuration, starting and stopping cleanly. */
import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isGone, killAll, runCli, startCoordinatorProcess, tempDir } from "../helpers/processes";

afterAll(killAll);

test("bound to 0.0.0.0 without SKYCLAW_TOKEN it exits non-zero naming the variable and opens no database", async () => {
  const dbPath = join(tempDir(), "coordinator.db");
  const run = await runCli(["coordinator"], {
    env: { SKYCLAW_COORDINATOR_HOST: "0.0.0.0", SKYCLAW_COORDINATOR_PORT: "0", SKYCLAW_DB_PATH: dbPath },
    timeoutMs: 15_000,
  });
  expect(run.exitCode).not.toBe(0);
  expect(run.stderr).toContain("SKYCLAW_TOKEN");
  expect(existsSync(dbPath)).toBe(false);
});

test.each([
  ["SKYCLAW_LEASE_MS", "abc"],
  ["SKYCLAW_COORDINATOR_PORT", "99999"],
])("%s=%s makes it exit non-zero naming the variable", async (variable, value) => {
  const dbPath = join(tempDir(), "coordinator.db");
  const run = await runCli(["coordinator"], {
    env: { SKYCLAW_COORDINATOR_PORT: "0", SKYCLAW_DB_PATH: dbPath, [variable]: value },
    timeoutMs: 15_000,
  });
  expect(run.exitCode).not.toBe(0);
  expect(run.stderr).toContain(variable);
  expect(existsSync(dbPath)).toBe(false);
});

test("with a token it serves on 0.0.0.0, guards the API, and exits 0 on SIGTERM", async () => {
  const coordinator = await startCoordinatorProcess({
    env: { SKYCLAW_COORDINATOR_HOST: "0.0.0.0", SKYCLAW_TOKEN: "process-token" },
  });
  const url = coordinator.url.replace("0.0.0.0", "127.0.0.1");
  expect((await fetch(`${url}/health`)).status).toBe(200);
  const refused = await fetch(`${url}/v1/state`);
  expect(refused.status).toBe(401);
  expect(await refused.json()).toMatchObject({ error: "unauthorized" });
  expect((await fetch(`${url}/v1/state`, { headers: { "x-skyclaw-token": "process-token" } })).status).toBe(200);
  expect(coordinator.stderr()).not.toContain("process-token");
  expect(await coordinator.stop()).toBe(0);
  expect(isGone(coordinator.pid)).toBe(true);
});

/** The process's environment as the kernel holds it (Linux). */
function environOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
}

test("it restarts itself in place (same pid) with the server allocator setting, and keeps one already given", async () => {
  const tuned = await startCoordinatorProcess();
  expect(environOf(tuned.pid)).toContain("MIMALLOC_PURGE_DELAY=-1");
  expect((await fetch(`${tuned.url}/health`)).status).toBe(200);
  expect(await tuned.stop()).toBe(0);

  const given = await startCoordinatorProcess({ env: { MIMALLOC_PURGE_DELAY: "250" } });
  expect(environOf(given.pid)).toContain("MIMALLOC_PURGE_DELAY=250");
  expect(await given.stop()).toBe(0);
});
