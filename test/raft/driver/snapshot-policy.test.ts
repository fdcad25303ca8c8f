/**
 * When a snapshot is due: after the interval AND once the log since the last image is as large
 * as that image (both stretched by the node's own share), so a larger state snapshots less often.
 */
import { expect, test } from "bun:test";
import { SnapshotPolicy } from "../../../src/raft/driver/snapshot-policy";

const INTERVAL = 1_000;

test("the first snapshot is due after the interval, stretched by the node's share of at most a half", () => {
  const policy = new SnapshotPolicy("http://n1", INTERVAL, { imageBytes: 0, logBytesSince: 0 });
  const dueAt = Math.ceil(INTERVAL * (1 + policy.stagger));
  expect(policy.stagger).toBeGreaterThanOrEqual(0);
  expect(policy.stagger).toBeLessThan(0.5);
  expect(policy.due(dueAt - 1)).toBe(false);
  expect(policy.due(dueAt)).toBe(true);
});

test("after an image of N bytes, the next is due only once N bytes (stretched) of log were applied since", () => {
  const policy = new SnapshotPolicy("http://n1", INTERVAL, { imageBytes: 0, logBytesSince: 0 });
  const imageBytes = 1_000_000;
  policy.applied(400_000);
  policy.taken(imageBytes, 300_000);
  expect(policy.pendingLogBytes).toBe(100_000);
  const entries = INTERVAL * 10;
  expect(policy.due(entries)).toBe(false);
  const bytesDue = Math.ceil(imageBytes * (1 + policy.stagger));
  policy.applied(bytesDue - 100_000 - 1);
  expect(policy.due(entries)).toBe(false);
  policy.applied(1);
  expect(policy.due(entries)).toBe(true);
  expect(policy.due(INTERVAL - 1)).toBe(false);
});

test("a restarted node counts the log it kept since its last image", () => {
  const policy = new SnapshotPolicy("http://n1", INTERVAL, { imageBytes: 500, logBytesSince: 10_000 });
  expect(policy.due(INTERVAL * 2)).toBe(true);
});

test("nodes whose ids differ only in the last character get clearly different shares", () => {
  const shares = ["http://127.0.0.1:47311", "http://127.0.0.1:47312", "http://127.0.0.1:47313"].map(
    (id) => new SnapshotPolicy(id, INTERVAL, { imageBytes: 0, logBytesSince: 0 }).stagger,
  );
  const gaps = [Math.abs(shares[0]! - shares[1]!), Math.abs(shares[1]! - shares[2]!), Math.abs(shares[0]! - shares[2]!)];
  expect(Math.min(...gaps)).toBeGreaterThan(0.01);
  expect(new SnapshotPolicy("http://127.0.0.1:47311", INTERVAL, { imageBytes: 0, logBytesSince: 0 }).stagger).toBe(shares[0]!);
});
