/**
 * Real processes: a host.json written before per-host credentials (a hostId, no credential)
 * against a coordinator with SKYCLAW_HOST_JOIN_TOKEN. The host registers afresh with the join
 * token and saves the new credential (0600): under its old id when the coordinator does not
 * know that id, under a new id when it does (the join token may not take over a known id, which
 * could be another machine's). Either way it says what it did and then runs jobs.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { killAll, runCli, startCli, startCoordinatorProcess, tempDir, type CoordinatorProcess } from "../helpers/processes";

afterAll(killAll);
// bunfig's [test] timeout is not applied by bun 1.4.5; these tests spawn real processes.
setDefaultTimeout(30_000);

const ADMIN = "legacy-admin-token";
const JOIN = "legacy-join-token";

let coordinator: CoordinatorProcess;
beforeAll(async () => {
  coordinator = await startCoordinatorProcess({ env: { SKYCLAW_ADMIN_TOKEN: ADMIN, SKYCLAW_HOST_JOIN_TOKEN: JOIN } });
});

/** A state directory holding an old-style host.json, readable by others as old files could be. */
function legacyStateDir(hostId: string): string {
  const stateDir = join(tempDir("skyclaw-host-"), "state");
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, "host.json"), `${JSON.stringify({ hostId })}\n`, { mode: 0o644 });
  return stateDir;
}

function startHost(stateDir: string) {
  return startCli(["host"], {
    env: { SKYCLAW_COORDINATOR_URL: coordinator.url, SKYCLAW_TOKEN: JOIN, SKYCLAW_ALLOWED_COMMANDS: "sh", SKYCLAW_HOST_STATE_DIR: stateDir },
  });
}

function savedIdentity(stateDir: string): { hostId: string; credential?: string; mode: number } {
  const file = join(stateDir, "host.json");
  return { ...JSON.parse(readFileSync(file, "utf8")), mode: statSync(file).mode & 0o777 };
}

async function hostRow(hostId: string): Promise<{ status: number; body: { id: string; state: string; name: string } }> {
  const response = await fetch(`${coordinator.url}/v1/hosts/${hostId}`, { headers: { "x-skyclaw-token": ADMIN } });
  return { status: response.status, body: (await response.json()) as { id: string; state: string; name: string } };
}

test("an id the coordinator does not know is kept: registered again with the join token, new credential saved 0600", async () => {
  const stateDir = legacyStateDir("legacy-unknown-1");
  const host = startHost(stateDir);
  await host.stderr.waitFor(/registered as legacy-unknown-1 \("/, 15_000);
  expect(host.stderr.text()).toContain(`${join(stateDir, "host.json")} held no credential: registered again as legacy-unknown-1 with SKYCLAW_TOKEN`);
  const saved = savedIdentity(stateDir);
  expect(saved).toMatchObject({ hostId: "legacy-unknown-1", mode: 0o600 });
  expect(saved.credential).toMatch(/^skyclaw-host-/);
  expect((await hostRow("legacy-unknown-1")).body.state).toBe("active");

  // It works as that host: it runs a job and reports it.
  const run = await runCli(["enqueue-shell", "--wait", "sh", "-c", "echo legacy-ok"], { env: { SKYCLAW_COORDINATOR_URL: coordinator.url, SKYCLAW_TOKEN: ADMIN } });
  expect(run.exitCode).toBe(0);
  expect(run.stdout).toContain("legacy-ok");
  host.process.kill("SIGTERM");
  expect(await host.exited).toBe(0);
});

test("an id the coordinator knows is not taken over with the join token: a new id, saved with its credential, the old one left alone", async () => {
  const taken = await fetch(`${coordinator.url}/v1/hosts/register`, {
    method: "POST",
    headers: { "x-skyclaw-token": ADMIN, "content-type": "application/json" },
    body: JSON.stringify({ hostId: "legacy-known-1", name: "someone-else", capabilities: ["shell"], slots: 1, version: "old" }),
  });
  expect(taken.status).toBe(200);

  const stateDir = legacyStateDir("legacy-known-1");
  const host = startHost(stateDir);
  const newId = await host.stderr.waitFor(/registered as (\S+) \("/, 15_000);
  expect(newId).not.toBe("legacy-known-1");
  expect(host.stderr.text()).toContain("the coordinator will not let SKYCLAW_TOKEN re-register legacy-known-1");
  expect(host.stderr.text()).toContain(`held no credential: registered as new host ${newId} (legacy-known-1 was not its to keep)`);
  const saved = savedIdentity(stateDir);
  expect(saved).toMatchObject({ hostId: newId, mode: 0o600 });
  expect(saved.credential).toMatch(/^skyclaw-host-/);
  expect((await hostRow(newId)).body.state).toBe("active");
  expect((await hostRow("legacy-known-1")).body.name).toBe("someone-else");
  host.process.kill("SIGTERM");
  expect(await host.exited).toBe(0);
});
