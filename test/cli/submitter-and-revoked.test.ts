/**
 * The job view shows who submitted it (the submit key's label) and the host view when it was
 * revoked: over the API, in `--json`, and in the human CLI output, against a real coordinator.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Host, HostList, Job, JobList, RegisterHostResponse } from "../../src/api";
import { killAll, runCli, startCoordinatorProcess, type CoordinatorProcess } from "../helpers/processes";

const ADMIN = "views-admin-token";
const JOIN = "views-join-token";
const KEY = "views-submit-key";

let coordinator: CoordinatorProcess;
let admin: Record<string, string>;

// bunfig's [test] timeout is not applied by bun 1.4.5; these tests spawn real processes.
setDefaultTimeout(20_000);

beforeAll(async () => {
  coordinator = await startCoordinatorProcess({
    env: { SKYCLAW_ADMIN_TOKEN: ADMIN, SKYCLAW_HOST_JOIN_TOKEN: JOIN, SKYCLAW_PUBLIC_API_KEYS: `${KEY}:ci-bot::shell` },
  });
  admin = { SKYCLAW_COORDINATOR_URL: coordinator.url, SKYCLAW_TOKEN: ADMIN };
});
afterAll(killAll);

async function call<T>(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(coordinator.url + path, {
    method,
    headers: { "x-skyclaw-token": token, ...(body !== undefined && { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

describe("submitter", () => {
  test("a submit key's job shows its label in the enqueue answer, GET, list, and `jobs get`/`jobs list`", async () => {
    const enqueued = await call<Job>("POST", "/v1/jobs", KEY, { kind: "shell", command: "true", id: "by-key" });
    expect(enqueued.status).toBe(201);
    expect(enqueued.body.submitter).toBe("ci-bot");

    const byAdmin = await call<Job>("GET", "/v1/jobs/by-key", ADMIN);
    expect(byAdmin.body.submitter).toBe("ci-bot");
    // What enqueue answered is what a later read shows.
    expect(byAdmin.body).toEqual(enqueued.body);
    const byOwner = await call<Job>("GET", "/v1/jobs/by-key", KEY);
    expect(byOwner.body.submitter).toBe("ci-bot");
    const list = await call<JobList>("GET", "/v1/jobs", ADMIN);
    expect(list.body.jobs.find((job) => job.id === "by-key")?.submitter).toBe("ci-bot");

    const readable = await runCli(["jobs", "get", "by-key"], { env: admin });
    expect(readable.exitCode).toBe(0);
    expect(readable.stdout).toMatch(/^submitter:\s+ci-bot$/m);
    const asJson = await runCli(["jobs", "get", "--json", "by-key"], { env: admin });
    expect(JSON.parse(asJson.stdout).submitter).toBe("ci-bot");
    const listed = await runCli(["jobs", "list", "--json"], { env: admin });
    expect((JSON.parse(listed.stdout) as JobList).jobs.find((job) => job.id === "by-key")?.submitter).toBe("ci-bot");
  });

  test("an admin's job has submitter null and `jobs get` shows no submitter line", async () => {
    const enqueued = await call<Job>("POST", "/v1/jobs", ADMIN, { kind: "shell", command: "true", id: "by-admin" });
    expect(enqueued.status).toBe(201);
    expect(enqueued.body.submitter).toBeNull();
    expect((await call<Job>("GET", "/v1/jobs/by-admin", ADMIN)).body).toEqual(enqueued.body);
    const readable = await runCli(["jobs", "get", "by-admin"], { env: admin });
    expect(readable.exitCode).toBe(0);
    expect(readable.stdout).not.toContain("submitter");
  });
});

describe("revokedAt", () => {
  test("a revoked host shows revokedAt over the API and in --json, and the state `revoked` in `hosts list`; others show null", async () => {
    const register = (name: string) =>
      call<RegisterHostResponse>("POST", "/v1/hosts/register", JOIN, { name, capabilities: ["shell"], slots: 1, version: "test" });
    const kept = (await register("kept-host")).body.host;
    const gone = (await register("gone-host")).body.host;
    expect(kept.revokedAt).toBeNull();

    const before = Date.now();
    const revoke = await runCli(["hosts", "revoke", gone.id], { env: admin });
    expect(revoke.exitCode).toBe(0);

    const one = await call<Host>("GET", `/v1/hosts/${gone.id}`, ADMIN);
    expect(one.body.state).toBe("lost");
    expect(one.body.revokedAt).toBeGreaterThanOrEqual(before);
    expect(one.body.revokedAt).toBeLessThanOrEqual(Date.now());
    const all = await call<HostList>("GET", "/v1/hosts", ADMIN);
    expect(all.body.hosts.find((host) => host.id === gone.id)?.revokedAt).toBe(one.body.revokedAt);
    expect(all.body.hosts.find((host) => host.id === kept.id)?.revokedAt).toBeNull();

    const table = await runCli(["hosts", "list"], { env: admin });
    expect(table.exitCode).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATE/);
    expect(lines.find((line) => line.startsWith(gone.id))).toMatch(/\sgone-host\s+revoked\s/);
    expect(lines.find((line) => line.startsWith(kept.id))).toMatch(/\skept-host\s+active\s/);
    const asJson = JSON.parse((await runCli(["hosts", "list", "--json"], { env: admin })).stdout) as HostList;
    expect(asJson.hosts.find((host) => host.id === gone.id)?.revokedAt).toBe(one.body.revokedAt);
  });
});
