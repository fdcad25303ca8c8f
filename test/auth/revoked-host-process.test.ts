/**
 * Real processes: a host revoked with `skyclaw hosts revoke` while it runs a job stops the job,
 * says why in one line and exits 3 by itself, long before its lease would have run out; the job
 * is back in the queue. Restarted with the same host.json, it refuses to start (exit 3) instead
 * of retrying forever.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Job } from "../../src/api";
import { isGone, killAll, runCli, startCli, startCoordinatorProcess, tempDir } from "../helpers/processes";

afterAll(killAll);
// bunfig's [test] timeout is not applied by bun 1.4.5; these tests spawn real processes.
setDefaultTimeout(30_000);

const ADMIN = "revoked-admin-token";
const JOIN = "revoked-join-token";

test("a revoked host stops its running job, logs the revocation and exits 3; the job is requeued; a restart refuses to run", async () => {
  // A one-minute lease: the host must notice the revocation itself, not by its lease view running out.
  const coordinator = await startCoordinatorProcess({
    env: { SKYCLAW_ADMIN_TOKEN: ADMIN, SKYCLAW_HOST_JOIN_TOKEN: JOIN, SKYCLAW_LEASE_MS: "60000", SKYCLAW_HEARTBEAT_MS: "200" },
  });
  const stateDir = join(tempDir("skyclaw-host-"), "state");
  const hostEnv = { SKYCLAW_COORDINATOR_URL: coordinator.url, SKYCLAW_TOKEN: JOIN, SKYCLAW_ALLOWED_COMMANDS: "sleep", SKYCLAW_HOST_STATE_DIR: stateDir };
  const host = startCli(["host"], { env: hostEnv });
  await host.stderr.waitFor(/registered as/, 15_000);
  const { hostId } = JSON.parse(readFileSync(join(stateDir, "host.json"), "utf8")) as { hostId: string };

  const admin = { SKYCLAW_COORDINATOR_URL: coordinator.url, SKYCLAW_TOKEN: ADMIN };
  const enqueued = await runCli(["enqueue-shell", "--id", "long-job", "sleep", "600"], { env: admin });
  expect(enqueued.exitCode).toBe(0);
  const jobPid = Number(await host.stderr.waitFor(/started pid (\d+): \S*sleep 600/, 15_000));

  const revoked = await runCli(["hosts", "revoke", hostId], { env: admin });
  expect(revoked.exitCode).toBe(0);
  expect(revoked.stdout).toBe(`${hostId}: revoked; long-job requeued\n`);

  expect(await host.exited).toBe(3);
  expect(host.stderr.text()).toContain(`host ${hostId} was revoked by the coordinator; exiting`);
  expect(host.stderr.text().match(/was revoked by the coordinator; exiting/g)).toHaveLength(1);
  expect(isGone(jobPid)).toBe(true);

  const response = await fetch(`${coordinator.url}/v1/jobs/long-job`, { headers: { "x-skyclaw-token": ADMIN } });
  const job = (await response.json()) as Job;
  expect({ state: job.state, hostId: job.hostId, attempt: job.attempt }).toEqual({ state: "queued", hostId: null, attempt: 1 });

  const restarted = await runCli(["host"], { env: hostEnv });
  expect(restarted.exitCode).toBe(3);
  expect(restarted.stderr).toContain(`host ${hostId} was revoked by the coordinator; exiting`);
  expect(restarted.stderr).toContain(`skyclaw: host ${hostId} was revoked by the coordinator; delete ${join(stateDir, "host.json")} to register`);
});

test("a coordinator that lost its state is not a revocation: the host rides out the outage and registers again with the join token", async () => {
  const secrets = { SKYCLAW_ADMIN_TOKEN: ADMIN, SKYCLAW_HOST_JOIN_TOKEN: JOIN, SKYCLAW_HEARTBEAT_MS: "200" };
  const first = await startCoordinatorProcess({ env: secrets });
  const stateDir = join(tempDir("skyclaw-host-"), "state");
  const host = startCli(["host"], {
    env: { SKYCLAW_COORDINATOR_URL: first.url, SKYCLAW_TOKEN: JOIN, SKYCLAW_ALLOWED_COMMANDS: "sleep", SKYCLAW_HOST_STATE_DIR: stateDir },
  });
  await host.stderr.waitFor(/registered as/, 15_000);
  const before = JSON.parse(readFileSync(join(stateDir, "host.json"), "utf8")) as { hostId: string; credential: string };

  // Down (connection refused: retried), then back on the same port with an empty database
  // (the host's credential is unknown there: a plain 401, not a revocation).
  await first.kill9();
  await host.stderr.waitFor(/heartbeat failed/, 15_000);
  const port = new URL(first.url).port;
  const second = await startCoordinatorProcess({ env: { ...secrets, SKYCLAW_COORDINATOR_PORT: port } });
  await host.stderr.waitFor(/registered again/, 15_000);

  const after = JSON.parse(readFileSync(join(stateDir, "host.json"), "utf8")) as { hostId: string; credential: string };
  expect(after.hostId).toBe(before.hostId);
  expect(after.credential).not.toBe(before.credential);
  const seen = await fetch(`${second.url}/v1/hosts/${before.hostId}`, { headers: { "x-skyclaw-token": ADMIN } });
  expect(seen.status).toBe(200);
  expect(((await seen.json()) as { state: string }).state).toBe("active");
  expect(host.stderr.text()).not.toContain("was revoked");
  expect(host.process.exitCode).toBeNull();
});
