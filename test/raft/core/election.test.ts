import { describe, expect, test } from "bun:test";
import { TestCluster } from "./cluster";

describe("leader election", () => {
  test("a follower that hears from no leader campaigns and wins; the others follow and the no-op commits everywhere", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.tick(40);
    const leaders = cluster.leaders();
    expect(leaders).toHaveLength(1);
    const leader = leaders[0]!;
    const term = cluster.raft(leader).status().term;
    for (const id of ["n1", "n2", "n3"]) {
      const status = cluster.raft(id).status();
      expect(status.leader).toBe(leader);
      expect(status.term).toBe(term);
      expect(status.commit).toBe(2); // bootstrap config entry + the leader's no-op
      expect(cluster.node(id).appliedIndex).toBe(2);
    }
  });

  test("pre-vote: a partitioned node does not inflate its term, and rejoining does not depose the leader", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    const term = cluster.raft("n1").status().term;
    cluster.isolate("n3");
    cluster.tick(200);
    expect(cluster.raft("n3").status().term).toBe(term);
    expect(cluster.count((m) => m.from === "n3" && m.type === "vote")).toBe(0);
    cluster.heal();
    cluster.tick(50);
    expect(cluster.leaders()).toEqual(["n1"]);
    expect(cluster.raft("n1").status().term).toBe(term);
    expect(cluster.raft("n3").status().leader).toBe("n1");
  });

  test("check-quorum: a leader cut off from the majority steps down and the majority elects another", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    cluster.isolate("n1");
    cluster.tick(60);
    expect(cluster.raft("n1").status().role).not.toBe("leader");
    const leaders = cluster.leaders();
    expect(leaders).toHaveLength(1);
    expect(leaders[0]).not.toBe("n1");
  });

  test("followers that heard from their leader recently ignore a vote request of a higher term", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    const term = cluster.raft("n1").status().term;
    cluster.raft("n2").step({ type: "vote", from: "n3", to: "n2", term: term + 5, lastIndex: 99, lastTerm: term + 4, transfer: false });
    expect(cluster.raft("n2").status().term).toBe(term);
    expect(cluster.raft("n2").ready().messages).toEqual([]);
  });

  test("a vote goes only to a candidate whose log is at least as up to date, and only once per term", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.settle();
    const voter = cluster.raft("n2");
    voter.step({ type: "vote", from: "n1", to: "n2", term: 2, lastIndex: 0, lastTerm: 0, transfer: false });
    voter.step({ type: "vote", from: "n3", to: "n2", term: 2, lastIndex: 1, lastTerm: 1, transfer: false });
    voter.step({ type: "vote", from: "n1", to: "n2", term: 2, lastIndex: 1, lastTerm: 1, transfer: false });
    const answers = voter.ready().messages.map((m) => (m.type === "voteResponse" ? `${m.to}:${m.granted}` : m.type));
    expect(answers).toEqual(["n1:false", "n3:true", "n1:false"]);
    expect(voter.ready().hardState).toEqual({ term: 2, vote: "n3", commit: 1 });
  });

  test("a proposal at a follower is refused and names the leader", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n2");
    expect(cluster.raft("n1").propose("x")).toMatchObject({ ok: false, reason: "notLeader", leader: "n2" });
  });

  test("a single voter elects itself and commits alone", () => {
    const cluster = new TestCluster(["solo"]);
    cluster.elect("solo");
    const index = cluster.propose("solo", "hello");
    expect(cluster.raft("solo").status().commit).toBe(index);
    expect(cluster.node("solo").appliedValues).toEqual(["hello"]);
  });
});
