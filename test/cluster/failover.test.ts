/**
 * Losing coordinators: kill -9 of the leader (a new leader takes writes, the old one restarts
 * and catches up from the log), a follower down across a compaction (it catches up from a
 * snapshot), and a cluster that lost its majority (503 no_leader after the brief wait).
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import type { Job } from "../../src/api";
import { killAll } from "../helpers/processes";
import { startCluster, type Cluster, type ClusterNode } from "./harness";

const shellJob = (text: string) => ({ kind: "shell", command: "echo", args: [text] });

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});
afterAll(killAll);

function jobIdsOnDisk(node: ClusterNode): string[] {
  const db = new Database(node.dbPath, { readonly: true });
  try {
    return db.query<{ id: string }, []>("SELECT id FROM jobs ORDER BY seq").all().map((row) => row.id);
  } finally {
    db.close();
  }
}

/** Posts until a node acknowledges (the client's failover, by hand); returns the job. */
async function enqueueSomewhere(nodes: ClusterNode[], key: string, text: string): Promise<Job> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    for (const node of nodes) {
      const reply = await node.call<Job>("POST", "/v1/jobs", { body: shellJob(text), idempotencyKey: key, timeoutMs: 5_000 }).catch(() => null);
      if (reply?.status === 201) return reply.body;
    }
  }
  throw new Error("no node acknowledged the write");
}

describe("failover", () => {
  test("after kill -9 of the leader a new leader accepts writes, and the old leader restarts and catches up", async () => {
    cluster = await startCluster({ size: 3 });
    const oldLeader = await cluster.leader();
    const before = await oldLeader.call<Job>("POST", "/v1/jobs", { body: shellJob("before") });
    expect(before.status).toBe(201);

    await oldLeader.kill9();
    const killedAt = performance.now();
    const survivors = cluster.nodes.filter((node) => node.running);
    const during = await enqueueSomewhere(survivors, `after-kill-${Bun.randomUUIDv7()}`, "after the kill");
    console.error(`failover: first write acknowledged ${Math.round(performance.now() - killedAt)} ms after kill -9 of the leader`);
    const newLeader = await cluster.leader();
    expect(newLeader).not.toBe(oldLeader);

    await oldLeader.start();
    await cluster.waitUntil(() => jobIdsOnDisk(oldLeader).includes(during.id), "the restarted node to catch up");
    expect(jobIdsOnDisk(oldLeader)).toEqual(jobIdsOnDisk(newLeader));
    const status = await oldLeader.status();
    expect(status.role).toBe("follower");
    expect(status.leader).toBe(newLeader.url);
    expect(jobIdsOnDisk(oldLeader)).toContain(before.body.id);
  });

  test("a follower down across a compaction catches up from a snapshot", async () => {
    cluster = await startCluster({ size: 3, env: { SKYCLAW_SNAPSHOT_INTERVAL: "20", SKYCLAW_SNAPSHOT_RETAIN: "0" } });
    const leader = await cluster.leader();
    const lagging = cluster.followers(leader)[0]!;
    await lagging.kill9();
    const created: string[] = [];
    for (let i = 0; i < 50; i++) {
      const reply = await leader.call<Job>("POST", "/v1/jobs", { body: shellJob(`job ${i}`) });
      expect(reply.status).toBe(201);
      created.push(reply.body.id);
    }
    // Snapshots are written in the background: the last write may commit before one is done.
    await cluster.waitUntil(async () => (await leader.status()).snapshotIndex > 20, "a snapshot on the leader");
    await lagging.start();
    await cluster.waitUntil(() => jobIdsOnDisk(lagging).length === jobIdsOnDisk(leader).length, "the lagging node to catch up");
    expect(jobIdsOnDisk(lagging)).toEqual(jobIdsOnDisk(leader));
    expect(jobIdsOnDisk(lagging)).toEqual(expect.arrayContaining(created));
    expect((await lagging.status()).snapshotIndex).toBeGreaterThan(0);
    // It serves again: a write through it is acknowledged.
    expect((await lagging.call("POST", "/v1/jobs", { body: shellJob("through the caught-up node") })).status).toBe(201);
  });

  test("with two of three coordinators gone, a request waits briefly and gets 503 no_leader with retry-after", async () => {
    cluster = await startCluster({ size: 3 });
    const leader = await cluster.leader();
    const [survivor, other] = cluster.followers(leader);
    await Promise.all([leader.kill9(), other!.kill9()]);
    await cluster.waitUntil(async () => (await survivor!.status()).leader === null, "the survivor to notice it has no leader", 5_000);
    const started = performance.now();
    const reply = await survivor!.call("POST", "/v1/jobs", { body: shellJob("no quorum") });
    expect(reply.status).toBe(503);
    expect(reply.body).toMatchObject({ error: "no_leader", leader: null });
    expect(reply.body.message).toContain("leader");
    expect(Number(reply.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_900);
    const read = await survivor!.call("GET", "/v1/jobs");
    expect(read.status).toBe(503);
    expect((await survivor!.call("GET", "/v1/jobs?local=true")).status).toBe(200);
    // Two waits of LEADER_WAIT_MS after an election timeout and a cluster start: past bun's default 5 s.
  }, 15_000);
});
