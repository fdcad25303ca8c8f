/**
 * Real processes: a host that joins with SKYCLAW_HOST_JOIN_TOKEN keeps its own credential in
 * host.json (0600) and runs a submit key's job; SKYCLAW_TOKEN alone still does everything, with
 * a start-up warning naming the scoped variables; `skyclaw hosts revoke` ends a host.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { killAll, runCli, startCli, startCoordinatorProcess, tempDir } from "../helpers/processes";

afterAll(killAll);
// bunfig's [test] timeout is not applied by bun 1.4.5; these tests spawn real processes.
setDefaultTimeout(30_000);

const ADMIN = "process-admin-token";
const JOIN = "process-join-token";
const KEY = "process-submit-key";

test("a host joins with the join token, keeps its credential in host.json (0600), runs a submit key's job, and is revoked by an admin", async () => {
  const coordinator = await startCoordinatorProcess({
    env: { SKYCLAW_ADMIN_TOKEN: ADMIN, SKYCLAW_HOST_JOIN_TOKEN: JOIN, SKYCLAW_PUBLIC_API_KEYS: `${KEY}:ci::shell` },
  });
  const stateDir = join(tempDir("skyclaw-host-"), "state");
  const host = startCli(["host"], {
    env: { SKYCLAW_COORDINATOR_URL: coordinator.url, SKYCLAW_TOKEN: JOIN, SKYCLAW_ALLOWED_COMMANDS: "sh", SKYCLAW_HOST_STATE_DIR: stateDir },
  });
  await host.stderr.waitFor(/registered as/, 15_000);
  const identityFile = join(stateDir, "host.json");
  const identity = JSON.parse(readFileSync(identityFile, "utf8"));
  expect(identity.credential).toMatch(/^skyclaw-host-/);
  expect(statSync(identityFile).mode & 0o777).toBe(0o600);

  const submit = { SKYCLAW_COORDINATOR_URL: coordinator.url, SKYCLAW_TOKEN: KEY };
  const run = await runCli(["enqueue-shell", "--wait", "sh", "-c", "echo from-job"], { env: submit });
  expect(run.stdout).toContain("from-job");
  expect(run.exitCode).toBe(0);

  const asSubmitter = await runCli(["hosts", "revoke", identity.hostId], { env: submit });
  expect(asSubmitter.exitCode).not.toBe(0);
  const revoked = await runCli(["hosts", "revoke", identity.hostId], { env: { SKYCLAW_COORDINATOR_URL: coordinator.url, SKYCLAW_TOKEN: ADMIN } });
  expect(revoked.exitCode).toBe(0);
  expect(revoked.stdout).toContain(`${identity.hostId}: revoked`);
  // The host learns of it at its next heartbeat or claim and exits (test/auth/revoked-host-process.test.ts has the details).
  expect(await host.exited).toBe(3);
});

test("SKYCLAW_TOKEN alone keeps working for every role, with a warning naming the scoped variables", async () => {
  const coordinator = await startCoordinatorProcess({ env: { SKYCLAW_TOKEN: "only-token" } });
  for (const variable of ["SKYCLAW_ADMIN_TOKEN", "SKYCLAW_PEER_TOKEN", "SKYCLAW_PUBLIC_API_KEYS", "SKYCLAW_HOST_JOIN_TOKEN"]) {
    expect(coordinator.stderr()).toContain(variable);
  }
  const env = { SKYCLAW_COORDINATOR_URL: coordinator.url, SKYCLAW_TOKEN: "only-token" };
  const host = startCli(["host"], { env: { ...env, SKYCLAW_ALLOWED_COMMANDS: "sh", SKYCLAW_HOST_STATE_DIR: join(tempDir("skyclaw-host-"), "state") } });
  await host.stderr.waitFor(/registered as/, 15_000);
  const run = await runCli(["enqueue-shell", "--wait", "sh", "-c", "exit 3"], { env });
  expect(run.exitCode).toBe(3);
  expect((await runCli(["hosts", "list"], { env })).exitCode).toBe(0);
});
