/** What each role sees over HTTP: host credentials and revocation, submit-key limits, own-jobs visibility. */
import { afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { stopTestCoordinators } from "../coordinator/harness";
import { ADMIN, ALICE, BOB, CAROL, JOIN, registerWith, send, startFixture } from "./fixture";

afterEach(stopTestCoordinators);

describe("host credentials", () => {
  test("registration returns a credential once; the state keeps only its sha256", async () => {
    const f = await startFixture();
    const fresh = await registerWith(f.coordinator, JOIN, "host-c");
    expect(fresh.credential).toMatch(/^skyclaw-host-/);
    const [row] = f.coordinator.rows("SELECT credential_hash FROM hosts WHERE id = ?", fresh.host.id);
    expect(row.credential_hash).toBe(createHash("sha256").update(fresh.credential!).digest("hex"));
    const again = await send(f.coordinator.url, "POST", "/v1/hosts/register", fresh.credential, {
      hostId: fresh.host.id,
      name: "host-c",
      capabilities: ["shell"],
      slots: 1,
      version: "t",
    });
    expect(again.status).toBe(200);
    expect(again.body.credential).toBeUndefined();
    expect(f.coordinator.rows("SELECT credential_hash FROM hosts WHERE id = ?", fresh.host.id)).toEqual([row]);
  });

  test("when an admin registers a known host again, its new credential works and the old one stops at once, even just after use", async () => {
    const f = await startFixture();
    const old = f.tokens["host-own"]!;
    const heartbeat = (token: string) => send(f.coordinator.url, "POST", `/v1/hosts/${f.hostA}/heartbeat`, token, { running: [] });
    expect((await heartbeat(old)).status).toBe(200);
    const again = await send(f.coordinator.url, "POST", "/v1/hosts/register", ADMIN, { hostId: f.hostA, name: "host-a", capabilities: ["shell"], slots: 1, version: "t" });
    expect(again.status).toBe(200);
    expect(again.body.credential).toMatch(/^skyclaw-host-/);
    expect(again.body.credential).not.toBe(old);
    expect((await heartbeat(old)).status).toBe(401);
    expect((await heartbeat(again.body.credential)).status).toBe(200);
  });

  test("a host cannot renew, write output for or complete a job leased to another host, even under its own id", async () => {
    const f = await startFixture();
    const b = f.tokens["host-other"];
    const asB = { hostId: f.hostB, attempt: f.job.attempt };
    const result = { exitCode: 0, signal: null, durationMs: 1 };
    expect((await send(f.coordinator.url, "POST", `/v1/jobs/${f.job.id}/renew`, b, asB)).status).toBe(409);
    expect((await send(f.coordinator.url, "POST", `/v1/jobs/${f.job.id}/output`, b, { ...asB, chunks: [{ stream: "stdout", data: "x" }] })).status).toBe(409);
    expect((await send(f.coordinator.url, "POST", `/v1/jobs/${f.job.id}/complete`, b, { ...asB, status: "succeeded", result })).status).toBe(409);
    expect(f.coordinator.rows("SELECT state, host_id, output_seq FROM jobs WHERE id = ?", f.job.id)).toEqual([{ state: "leased", host_id: f.hostA, output_seq: 0 }]);
  });
});

describe("revocation", () => {
  test("a revoked host's calls get 401 host_revoked naming it, its leased job is requeued for another host, and it cannot register again", async () => {
    const f = await startFixture();
    const a = f.tokens["host-own"];
    const revoked = await send(f.coordinator.url, "POST", `/v1/hosts/${f.hostA}/revoke`, ADMIN);
    expect(revoked.status).toBe(200);
    expect(revoked.body.requeued).toEqual([f.job.id]);
    expect(f.coordinator.rows("SELECT state, host_id FROM jobs WHERE id = ?", f.job.id)).toEqual([{ state: "queued", host_id: null }]);
    expect(f.coordinator.rows("SELECT state, revoked_at IS NOT NULL AS revoked FROM hosts WHERE id = ?", f.hostA)).toEqual([{ state: "lost", revoked: 1 }]);
    for (const [path, body] of [
      [`/v1/hosts/${f.hostA}/heartbeat`, { running: [] }],
      [`/v1/hosts/${f.hostA}/claim`, { slots: 1, waitMs: 0 }],
      [`/v1/jobs/${f.job.id}/renew`, { hostId: f.hostA, attempt: 1 }],
      ["/v1/hosts/register", { hostId: f.hostA, name: "a", capabilities: ["shell"], slots: 1, version: "t" }],
    ] as const) {
      const reply = await send(f.coordinator.url, "POST", path, a, body);
      expect({ path, status: reply.status, error: reply.body.error }).toEqual({ path, status: 401, error: "host_revoked" });
      expect(reply.body.message).toContain(`host "${f.hostA}" was revoked`);
    }
    // Any other unknown token still gets the plain answer.
    const stranger = await send(f.coordinator.url, "POST", `/v1/hosts/${f.hostA}/heartbeat`, `skyclaw-host-${"x".repeat(43)}`, { running: [] });
    expect({ status: stranger.status, error: stranger.body.error }).toEqual({ status: 401, error: "unauthorized" });
    const rejoin = await send(f.coordinator.url, "POST", "/v1/hosts/register", JOIN, { hostId: f.hostA, name: "a", capabilities: ["shell"], slots: 1, version: "t" });
    expect(rejoin.status).toBe(403);
    const claimed = await send(f.coordinator.url, "POST", `/v1/hosts/${f.hostB}/claim`, f.tokens["host-other"], { slots: 1, waitMs: 0 });
    expect(claimed.body.jobs.map((job: { id: string; attempt: number }) => [job.id, job.attempt])).toEqual([[f.job.id, 2]]);
  });

  test("a host parked in a claim gets the requeued job when its holder is revoked", async () => {
    const f = await startFixture();
    const parked = send(f.coordinator.url, "POST", `/v1/hosts/${f.hostB}/claim`, f.tokens["host-other"], { slots: 1, waitMs: 10_000 });
    // The claim parks only once the coordinator found nothing for it; wait for that to be visible.
    const deadline = Date.now() + 5_000;
    while (f.coordinator.node.waiters.parkedClaims === 0 && Date.now() < deadline) await Bun.sleep(5);
    expect((await send(f.coordinator.url, "POST", `/v1/hosts/${f.hostA}/revoke`, ADMIN)).status).toBe(200);
    const reply = await parked;
    expect(reply.body.jobs.map((job: { id: string }) => job.id)).toEqual([f.job.id]);
  });
});

describe("submit keys", () => {
  const enqueueAs = async (f: Awaited<ReturnType<typeof startFixture>>, key: string, body: Record<string, unknown>) =>
    send(f.coordinator.url, "POST", "/v1/jobs", key, body);

  test("a key may require only its capabilities, and shell only with the shell flag; refusals add no job", async () => {
    const f = await startFixture();
    const before = f.coordinator.rows("SELECT count(*) AS n FROM jobs");
    const noShell = await enqueueAs(f, CAROL, { kind: "shell", command: "echo" });
    expect(noShell.status).toBe(403);
    expect(noShell.body).toMatchObject({ error: "forbidden", field: "kind" });
    const gpu = await enqueueAs(f, BOB, { kind: "shell", command: "echo", requires: ["gpu"] });
    expect(gpu.status).toBe(403);
    expect(gpu.body.field).toBe("requires");
    expect(gpu.body.message).toContain("gpu");
    expect((await enqueueAs(f, ALICE, { kind: "openclaw", message: "hi" })).status).toBe(403);
    expect(f.coordinator.rows("SELECT count(*) AS n FROM jobs")).toEqual(before);
    expect((await enqueueAs(f, ALICE, { kind: "shell", command: "echo", requires: ["gpu"] })).status).toBe(201);
    expect((await enqueueAs(f, CAROL, { kind: "openclaw", message: "hi", requires: ["gpu"] })).status).toBe(201);
  });

  test("a key sees, lists and cancels only its own jobs; another's job is a 404 like a missing one", async () => {
    const f = await startFixture();
    const bobs = await enqueueAs(f, BOB, { kind: "shell", command: "echo" });
    expect(f.coordinator.rows("SELECT submitter FROM jobs ORDER BY seq")).toEqual([{ submitter: "alice" }, { submitter: "bob" }]);
    const bobList = await send(f.coordinator.url, "GET", "/v1/jobs", BOB);
    expect(bobList.body.jobs.map((job: { id: string }) => job.id)).toEqual([bobs.body.id]);
    const aliceList = await send(f.coordinator.url, "GET", "/v1/jobs?state=leased", ALICE);
    expect(aliceList.body.jobs.map((job: { id: string }) => job.id)).toEqual([f.job.id]);
    const adminList = await send(f.coordinator.url, "GET", "/v1/jobs", ADMIN);
    expect(adminList.body.jobs).toHaveLength(2);
    const hidden = await send(f.coordinator.url, "GET", `/v1/jobs/${f.job.id}`, BOB);
    const missing = await send(f.coordinator.url, "GET", "/v1/jobs/no-such-job", BOB);
    expect(hidden.status).toBe(404);
    expect(hidden.body).toEqual({ ...missing.body, message: missing.body.message.replace("no-such-job", f.job.id) });
    expect((await send(f.coordinator.url, "POST", `/v1/jobs/${f.job.id}/cancel`, BOB, {})).status).toBe(404);
    expect(f.coordinator.rows("SELECT cancel_requested_at FROM jobs WHERE id = ?", f.job.id)).toEqual([{ cancel_requested_at: null }]);
    expect((await send(f.coordinator.url, "POST", `/v1/jobs/${bobs.body.id}/cancel`, BOB, {})).body.state).toBe("cancelled");
  });
});
