import { describe, expect, test } from "bun:test";
import { TestCluster } from "./cluster";
import type { ReadState } from "../../../src/raft/core/ready";

function collectReads(cluster: TestCluster, id: string): { confirmed: ReadState[]; dropped: string[] } {
  const seen = { confirmed: [] as ReadState[], dropped: [] as string[] };
  const node = cluster.node(id);
  const original = node.handleReady.bind(node);
  node.handleReady = (hooks = {}) =>
    original({
      ...hooks,
      readStates: (_node, states, dropped) => {
        seen.confirmed.push(...states);
        seen.dropped.push(...dropped);
      },
    });
  return seen;
}

describe("read index", () => {
  test("the leader answers with its commit index after a majority acknowledged a heartbeat round", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    const index = cluster.propose("n1", "x");
    const reads = collectReads(cluster, "n1");
    const before = cluster.delivered.length;
    expect(cluster.raft("n1").readIndex("r1")).toEqual({ ok: true });
    cluster.settle();
    expect(reads.confirmed).toEqual([{ requestId: "r1", index }]);
    expect(cluster.delivered.slice(before).filter((m) => m.type === "heartbeat")).toHaveLength(2);
  });

  test("a leader cut off from the majority confirms no read, and drops it when it steps down", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    const reads = collectReads(cluster, "n1");
    cluster.isolate("n1");
    cluster.raft("n1").readIndex("r1");
    cluster.tick(5, ["n1"]);
    expect(reads.confirmed).toEqual([]);
    cluster.tick(30, ["n1"]);
    expect(cluster.raft("n1").status().role).not.toBe("leader");
    expect(reads.dropped).toEqual(["r1"]);
  });

  test("a follower refuses and names the leader", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    expect(cluster.raft("n2").readIndex("r1")).toMatchObject({ ok: false, reason: "notLeader", leader: "n1" });
  });

  test("a new leader answers only once an entry of its own term is committed", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.filter = (m) => m.type !== "append";
    cluster.elect("n1");
    const reads = collectReads(cluster, "n1");
    cluster.raft("n1").readIndex("r1");
    cluster.tick(2);
    expect(reads.confirmed).toEqual([]);
    cluster.filter = () => true;
    cluster.tick(2);
    expect(reads.confirmed).toEqual([{ requestId: "r1", index: 2 }]);
  });
});
