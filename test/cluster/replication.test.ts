/**
 * Three real coordinator processes on 127.0.0.1: one leader is elected, any node accepts a write
 * and forwards it to the leader, the write is on every node, and a retried idempotency key gives
 * the same job back whichever node it is sent to.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import type { ClusterStatus, Job } from "../../src/api";
import { killAll } from "../helpers/processes";
import { parsePrometheusText, sampleValue } from "../metrics/prometheus-text";
import { CLUSTER_TOKEN, PEER_TOKEN, startCluster, type Cluster } from "./harness";

const shellJob = (text: string) => ({ kind: "shell", command: "echo", args: [text] });

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ size: 3 });
});
afterAll(killAll);

describe("a 3-node cluster", () => {
  test("elects exactly one leader, and every node reports it and the three voters", async () => {
    const leader = await cluster.leader();
    const statuses = await Promise.all(cluster.nodes.map((node) => node.status()));
    expect(statuses.filter((status) => status.role === "leader").map((status) => status.self)).toEqual([leader.url]);
    for (const status of statuses) {
      expect(status.leader).toBe(leader.url);
      expect(status.members.map((member) => [member.url, member.role])).toEqual([...cluster.urls].sort().map((url) => [url, "voter"]));
    }
    const state = await leader.call("GET", "/v1/state");
    expect(state.body.role).toBe("leader");
    const followerState = await cluster.followers(leader)[0]!.call("GET", "/v1/state");
    expect(followerState.body.role).toBe("follower");
  });

  test("a write sent to a follower is acknowledged and readable on every node", async () => {
    const leader = await cluster.leader();
    const follower = cluster.followers(leader)[0]!;
    const created = await follower.call<Job>("POST", "/v1/jobs", { body: shellJob("via follower") });
    expect(created.status).toBe(201);
    expect(created.body.state).toBe("queued");
    for (const node of cluster.nodes) {
      const read = await node.call<Job>("GET", `/v1/jobs/${created.body.id}`);
      expect(read.status).toBe(200);
      expect(read.body.id).toBe(created.body.id);
    }
    // The write is durable on every node's own state database, not just served by the leader.
    await cluster.waitUntil(() => cluster.nodes.every((node) => rowCount(node.dbPath, created.body.id) === 1), "the job on every node's disk");
  });

  test("a local read on a follower is served from its own copy", async () => {
    const leader = await cluster.leader();
    const follower = cluster.followers(leader)[0]!;
    const created = await leader.call<Job>("POST", "/v1/jobs", { body: shellJob("local read") });
    await cluster.waitUntil(() => rowCount(follower.dbPath, created.body.id) === 1, "the follower to apply the job");
    const listed = await follower.call<{ jobs: Job[] }>("GET", "/v1/jobs?local=true&limit=500");
    expect(listed.status).toBe(200);
    expect(listed.body.jobs.map((job) => job.id)).toContain(created.body.id);
  });

  test("an idempotency key retried through different nodes returns the same job, created once", async () => {
    const key = `cluster-retry-${Bun.randomUUIDv7()}`;
    const answers: { status: number; body: Job }[] = [];
    for (const node of cluster.nodes) answers.push(await node.call<Job>("POST", "/v1/jobs", { body: shellJob("once"), idempotencyKey: key }));
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201]);
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    const leader = await cluster.leader();
    const listed = await leader.call<{ jobs: Job[] }>("GET", "/v1/jobs?limit=500");
    expect(listed.body.jobs.filter((job) => job.id === answers[0]!.body.id)).toHaveLength(1);
  });

  test("replication routes refuse the client token and accept only the peer secret", async () => {
    const node = cluster.nodes[0]!;
    const withClientToken = await fetch(`${node.url}/v1/replicate/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-skyclaw-token": "cluster-test-token", "x-skyclaw-peer-token": "cluster-test-token" },
      body: JSON.stringify({ messages: [] }),
    });
    expect(withClientToken.status).toBe(401);
    expect(((await withClientToken.json()) as { error: string }).error).toBe("unauthorized");
    const withPeerToken = await fetch(`${node.url}/v1/replicate/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-skyclaw-peer-token": PEER_TOKEN },
      body: JSON.stringify({ messages: [{ type: "nonsense" }] }),
    });
    expect(withPeerToken.status).toBe(400);
    expect(((await withPeerToken.json()) as { error: string }).error).toBe("invalid_request");
  });

  test("GET /v1/cluster needs the client token", async () => {
    const reply = await cluster.nodes[0]!.call<ClusterStatus>("GET", "/v1/cluster", { token: null });
    expect(reply.status).toBe(401);
  });

  test("/metrics shows where replicated writes spend their time: proposals, log fsyncs, round trips to each peer", async () => {
    const leader = await cluster.leader();
    const before = await scrapeMetrics(leader.url);
    const proposalsBefore = sampleValue(before, "skyclaw_raft_proposal_seconds_count") ?? 0;
    for (let i = 0; i < 3; i++) expect((await leader.call("POST", "/v1/jobs", { body: shellJob(`timed ${i}`) })).status).toBe(201);
    const after = await scrapeMetrics(leader.url);
    expect(after.get("skyclaw_raft_proposal_seconds")?.type).toBe("histogram");
    expect(sampleValue(after, "skyclaw_raft_proposal_seconds_count")).toBeGreaterThanOrEqual(proposalsBefore + 3);
    expect(sampleValue(after, "skyclaw_raft_proposal_seconds_sum")).toBeGreaterThan(0);
    expect(sampleValue(after, "skyclaw_raft_log_fsync_seconds_count")).toBeGreaterThan(0);
    for (const follower of cluster.followers(leader)) {
      expect(sampleValue(after, "skyclaw_raft_peer_round_trip_seconds_count", { peer: follower.url })).toBeGreaterThan(0);
      // A follower persists what it receives: its own log fsyncs are counted there.
      expect(sampleValue(await scrapeMetrics(follower.url), "skyclaw_raft_log_fsync_seconds_count")).toBeGreaterThan(0);
    }
  });
});

async function scrapeMetrics(url: string) {
  const response = await fetch(`${url}/metrics`, { headers: { "x-skyclaw-token": CLUSTER_TOKEN } });
  expect(response.status).toBe(200);
  return parsePrometheusText(await response.text());
}

function rowCount(dbPath: string, jobId: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.query<{ n: number }, [string]>("SELECT count(*) AS n FROM jobs WHERE id = ?").get(jobId)!.n;
  } finally {
    db.close();
  }
}
