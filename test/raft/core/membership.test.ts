import { describe, expect, test } from "bun:test";
import { TestCluster } from "./cluster";

describe("single-server membership changes", () => {
  test("a new node joins as a learner, catches up without voting, then is promoted and counts toward commits", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"], {}, ["n4"]);
    cluster.elect("n1");
    for (let i = 0; i < 5; i++) cluster.propose("n1", `v${i}`);
    expect(cluster.raft("n1").proposeMembership({ type: "addLearner", node: "n4" }).ok).toBe(true);
    cluster.tick(3);
    const learner = cluster.node("n4");
    expect(learner.appliedValues).toEqual(["v0", "v1", "v2", "v3", "v4"]);
    expect(learner.raft.status().membership).toEqual({ voters: ["n1", "n2", "n3"], learners: ["n4"] });

    cluster.isolate("n1");
    cluster.tick(100, ["n4"]);
    expect(cluster.count((m) => m.from === "n4" && (m.type === "preVote" || m.type === "vote"))).toBe(0);
    cluster.heal();

    expect(cluster.raft("n1").proposeMembership({ type: "promote", node: "n4" }).ok).toBe(true);
    cluster.tick(2);
    expect(cluster.raft("n4").status().membership).toEqual({ voters: ["n1", "n2", "n3", "n4"], learners: [] });
    // Four voters: a commit now needs three of them.
    cluster.isolate("n3");
    cluster.isolate("n4");
    const index = cluster.raft("n1").propose("needs-three");
    cluster.tick(2, ["n1", "n2"]);
    expect(index.ok && cluster.raft("n1").status().commit < index.index).toBe(true);
    cluster.heal();
    cluster.tick(2);
    expect(cluster.node("n4").appliedValues.at(-1)).toBe("needs-three");
  });

  test("a removed voter no longer counts: two of the remaining three commit without it", () => {
    const cluster = new TestCluster(["n1", "n2", "n3", "n4"]);
    cluster.elect("n1");
    expect(cluster.raft("n1").proposeMembership({ type: "remove", node: "n4" }).ok).toBe(true);
    cluster.settle();
    cluster.isolate("n4");
    cluster.isolate("n3");
    const index = cluster.propose("n1", "without-n4");
    expect(cluster.raft("n1").status().commit).toBe(index);
    expect(cluster.raft("n1").progressOf("n4")).toBeNull();
  });

  test("invalid or concurrent changes are refused with a reason", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"], { minReplications: 3 }, ["n4", "n5"]);
    cluster.elect("n1");
    const leader = cluster.raft("n1");
    expect(leader.proposeMembership({ type: "remove", node: "n1" })).toMatchObject({ ok: false, reason: "invalidChange" });
    expect(leader.proposeMembership({ type: "remove", node: "n2" })).toMatchObject({ ok: false, reason: "invalidChange" }); // below minReplications
    expect(leader.proposeMembership({ type: "addLearner", node: "n2" })).toMatchObject({ ok: false, reason: "invalidChange" });
    expect(leader.proposeMembership({ type: "promote", node: "n4" })).toMatchObject({ ok: false, reason: "invalidChange" });
    cluster.isolate("n3");
    expect(leader.proposeMembership({ type: "addLearner", node: "n4" }).ok).toBe(true);
    expect(leader.proposeMembership({ type: "addLearner", node: "n5" })).toMatchObject({ ok: false, reason: "configChangePending" });
  });

  test("a learner far behind is not promoted until it catches up", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"], { maxPromoteLagEntries: 2 }, ["n4"]);
    cluster.elect("n1");
    cluster.raft("n1").proposeMembership({ type: "addLearner", node: "n4" });
    cluster.settle();
    cluster.isolate("n4");
    for (let i = 0; i < 5; i++) cluster.propose("n1", `v${i}`);
    expect(cluster.raft("n1").proposeMembership({ type: "promote", node: "n4" })).toMatchObject({ ok: false, reason: "invalidChange" });
    cluster.heal();
    cluster.tick(3);
    expect(cluster.raft("n1").proposeMembership({ type: "promote", node: "n4" }).ok).toBe(true);
  });
});
