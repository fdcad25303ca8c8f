/** extendLeases: a new leader gives every live lease at least one more lease period, and changes nothing else. */
import { afterEach, beforeEach, expect, test } from "bun:test";
import type { ExtendLeasesCommand } from "../../src/state/commands";
import { enqueue, expireLeases, Harness, LEASE_MS, leasedJob, registerHost, renewLease, T0 } from "./harness";

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(() => h.close());

const extendLeases = (at: number, leaseMs = LEASE_MS): ExtendLeasesCommand => ({ type: "extendLeases", at, leaseMs });

test("a lease about to expire now expires one lease period after the command's time", () => {
  const lease = leasedJob(h);
  expect(h.job(lease.jobId).lease_expires_at).toBe(T0 + LEASE_MS);
  expect(h.ok(extendLeases(T0 + LEASE_MS - 10))).toEqual({ extended: 1 });
  expect(h.job(lease.jobId)).toMatchObject({ state: "leased", attempt: 1, host_id: "host-a", lease_expires_at: T0 + 2 * LEASE_MS - 10 });
  h.ok(expireLeases({ at: T0 + LEASE_MS + 1 }));
  expect(h.job(lease.jobId).state).toBe("leased");
});

test("a lease already running later than at + leaseMs is kept", () => {
  const lease = leasedJob(h);
  h.ok(renewLease({ ...lease, at: T0 + 100_000 }));
  expect(h.ok(extendLeases(T0 + 1_000))).toEqual({ extended: 0 });
  expect(h.job(lease.jobId).lease_expires_at).toBe(T0 + 100_000 + LEASE_MS);
});

test("queued jobs and hosts are untouched; only lease expiries of leased jobs move", () => {
  const lease = leasedJob(h);
  h.ok(registerHost({ hostId: "host-b" }));
  h.ok(enqueue({ jobId: "waiting" }));
  const before = h.dump();
  h.ok(extendLeases(T0 + 5_000));
  const after = h.dump();
  const leased = (rows: unknown[]) => (rows as { id: string }[]).map((row) => (row.id === lease.jobId ? { ...row, lease_expires_at: 0 } : row));
  expect(leased(after.jobs!)).toEqual(leased(before.jobs!));
  expect({ ...after, jobs: [] }).toEqual({ ...before, jobs: [] });
  expect(h.job("waiting")).toMatchObject({ state: "queued", lease_expires_at: null });
});
