import { describe, expect, test } from "bun:test";
import { TestCluster } from "./cluster";

describe("snapshots", () => {
  test("a follower behind the leader's compaction point receives the snapshot, installs it, then continues from the log", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    cluster.isolate("n3");
    for (let i = 0; i < 30; i++) cluster.propose("n1", `v${i}`);
    const snapshot = cluster.node("n1").compact(0);
    expect(cluster.raft("n1").status().firstIndex).toBe(snapshot.index + 1);
    cluster.heal();
    cluster.propose("n1", "after");
    cluster.tick(3);

    const sent = cluster.delivered.filter((m) => m.type === "snapshot" && m.to === "n3");
    expect(sent).toHaveLength(1);
    const follower = cluster.node("n3");
    expect(follower.disk.snapshot).toEqual(snapshot);
    expect(follower.disk.entries.map((entry) => entry.index)).toEqual([snapshot.index + 1]);
    expect(follower.appliedValues).toEqual([...Array.from({ length: 30 }, (_, i) => `v${i}`), "after"]);
    expect(cluster.raft("n1").progressOf("n3")).toMatchObject({ state: "replicate", match: snapshot.index + 1 });
  });

  test("entries retained after compaction let a slightly lagging follower catch up without a snapshot", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    cluster.propose("n1", "before");
    cluster.isolate("n3");
    for (let i = 0; i < 5; i++) cluster.propose("n1", `v${i}`);
    cluster.node("n1").compact(10);
    cluster.heal();
    cluster.tick(3);
    expect(cluster.count((m) => m.type === "snapshot")).toBe(0);
    expect(cluster.node("n3").appliedValues).toEqual(["before", "v0", "v1", "v2", "v3", "v4"]);
  });

  test("a node restarted from a snapshot plus later entries recovers the state machine and the log", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    for (let i = 0; i < 4; i++) cluster.propose("n1", `v${i}`);
    cluster.tick(2);
    const node = cluster.node("n2");
    const snapshot = node.compact(0);
    cluster.propose("n1", "v4");
    cluster.tick(2);
    node.restart();
    expect(node.appliedValues).toEqual(["v0", "v1", "v2", "v3"]);
    expect(node.raft.status().firstIndex).toBe(snapshot.index + 1);
    cluster.settle();
    expect(node.appliedValues).toEqual(["v0", "v1", "v2", "v3", "v4"]);
  });

  test("compacting past the applied index is refused", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    const applied = cluster.raft("n1").status().applied;
    expect(() => cluster.raft("n1").compact(applied + 1, "[]")).toThrow(RangeError);
  });

  test("a lost snapshot is sent again after snapshotTimeoutTicks", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"], { snapshotTimeoutTicks: 5 });
    cluster.elect("n1");
    cluster.isolate("n3");
    for (let i = 0; i < 3; i++) cluster.propose("n1", `v${i}`);
    cluster.node("n1").compact(0);
    cluster.heal();
    let dropSnapshots = true;
    cluster.filter = (m) => !(dropSnapshots && m.type === "snapshot");
    cluster.tick(2);
    expect(cluster.node("n3").appliedValues).toEqual([]);
    dropSnapshots = false;
    cluster.tick(8);
    expect(cluster.node("n3").appliedValues).toEqual(["v0", "v1", "v2"]);
  });
});
