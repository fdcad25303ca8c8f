/** The revokeHost state-machine command: its precondition, its effect, and what a revoked id can no longer do. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { RevokeHostCommand } from "../../src/state/commands";
import { cancel, claim, enqueue, Harness, heartbeat, leasedJob, registerHost, T0 } from "../state/harness";

const revokeHost = (hostId: string, at = T0 + 1_000): RevokeHostCommand => ({ type: "revokeHost", hostId, at });

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(() => h.close());

describe("revokeHost", () => {
  test("refuses an unknown host with not_found and changes nothing", () => {
    h.refusedWithoutChange(revokeHost("nope"), "not_found");
  });

  test("voids the credential (keeping its hash so a refusal can name the revocation), marks the host lost and revoked, requeues its leased jobs at once and cancels those with a pending cancel", () => {
    h.ok(registerHost({ hostId: "host-a", slots: 2, credentialHash: "a".repeat(64) }));
    const first = leasedJob(h, { hostId: "host-a", jobId: "job-1" });
    leasedJob(h, { hostId: "host-a", jobId: "job-2" });
    h.ok(cancel({ jobId: "job-2", at: T0 + 500 }));
    const result = h.ok(revokeHost("host-a"));
    expect(result.requeued).toEqual(["job-1"]);
    expect(result.cancelled).toEqual(["job-2"]);
    expect(result.host.state).toBe("lost");
    expect(h.host("host-a")).toMatchObject({ credential_hash: "a".repeat(64), revoked_at: T0 + 1_000, state: "lost" });
    expect(h.job("job-1")).toMatchObject({ state: "queued", host_id: null, lease_expires_at: null, available_at: T0 + 1_000, attempt: first.attempt });
    expect(h.job("job-2")).toMatchObject({ state: "cancelled", host_id: null, finished_at: T0 + 1_000 });
  });

  test("a revoked id can no longer heartbeat, claim or register, and another host gets its job", () => {
    leasedJob(h, { hostId: "host-a", jobId: "job-1" });
    h.ok(revokeHost("host-a"));
    h.refusedWithoutChange(heartbeat({ hostId: "host-a", at: T0 + 2_000 }), "host_not_active");
    h.refusedWithoutChange(claim({ hostId: "host-a", at: T0 + 2_000 }), "host_not_active");
    h.refusedWithoutChange(registerHost({ hostId: "host-a", at: T0 + 2_000, credentialHash: "b".repeat(64) }), "host_not_active");
    h.ok(registerHost({ hostId: "host-b", at: T0 + 2_000 }));
    const { jobs } = h.ok(claim({ hostId: "host-b", at: T0 + 2_000 }));
    expect(jobs.map((job: { id: string; attempt: number }) => [job.id, job.attempt])).toEqual([["job-1", 2]]);
  });

  test("revoking twice keeps the first revocation time", () => {
    h.ok(registerHost({ hostId: "host-a" }));
    h.ok(revokeHost("host-a", T0 + 1_000));
    h.ok(revokeHost("host-a", T0 + 5_000));
    expect(h.host("host-a").revoked_at).toBe(T0 + 1_000);
  });
});

describe("registerHost and enqueue record what the roles need", () => {
  test("registerHost stores a given credential hash and keeps it when re-registered without one", () => {
    h.ok(registerHost({ hostId: "host-a", credentialHash: "c".repeat(64) }));
    h.ok(registerHost({ hostId: "host-a", at: T0 + 10 }));
    expect(h.host("host-a").credential_hash).toBe("c".repeat(64));
    h.ok(registerHost({ hostId: "host-a", at: T0 + 20, credentialHash: "d".repeat(64) }));
    expect(h.host("host-a").credential_hash).toBe("d".repeat(64));
  });

  test("enqueue records the submitter", () => {
    h.ok(enqueue({ jobId: "job-1", submitter: "alice" }));
    h.ok(enqueue({ jobId: "job-2" }));
    expect([h.job("job-1").submitter, h.job("job-2").submitter]).toEqual(["alice", null]);
  });
});
