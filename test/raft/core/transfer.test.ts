import { describe, expect, test } from "bun:test";
import { TestCluster } from "./cluster";

describe("leadership transfer", () => {
  test("the target campaigns at once on TimeoutNow and wins the next term, despite the others' leader lease", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    const term = cluster.raft("n1").status().term;
    expect(cluster.raft("n1").transferLeadership("n2")).toEqual({ ok: true });
    cluster.settle();
    expect(cluster.leaders()).toEqual(["n2"]);
    expect(cluster.raft("n2").status().term).toBe(term + 1);
    expect(cluster.raft("n1").status().leader).toBe("n2");
    expect(cluster.count((m) => m.type === "timeoutNow" && m.to === "n2")).toBe(1);
  });

  test("a lagging target first receives the missing entries, then the TimeoutNow", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    cluster.isolate("n3");
    cluster.propose("n1", "missed");
    cluster.heal();
    cluster.filter = (m) => !(m.type === "heartbeat");
    cluster.raft("n1").transferLeadership("n3");
    expect(cluster.raft("n1").propose("during")).toMatchObject({ ok: false, reason: "transferring" });
    cluster.settle();
    expect(cluster.leaders()).toEqual(["n3"]);
    expect(cluster.node("n3").appliedValues).toEqual(["missed"]);
  });

  test("a transfer that cannot finish within an election timeout is abandoned and the leader accepts proposals again", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    cluster.isolate("n3");
    cluster.raft("n1").transferLeadership("n3");
    expect(cluster.raft("n1").propose("x").ok).toBe(false);
    cluster.tick(10, ["n1"]);
    expect(cluster.raft("n1").status().role).toBe("leader");
    expect(cluster.raft("n1").propose("x").ok).toBe(true);
  });

  test("only a voter can be the target", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    expect(cluster.raft("n1").transferLeadership("n9")).toMatchObject({ ok: false, reason: "invalidChange" });
    expect(cluster.raft("n2").transferLeadership("n3")).toMatchObject({ ok: false, reason: "notLeader", leader: "n1" });
  });
});
