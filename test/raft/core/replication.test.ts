import { describe, expect, test } from "bun:test";
import type { Entry, Message } from "../../../src/raft/core/messages";
import { encodeMembership } from "../../../src/raft/core/membership";
import { TestCluster } from "./cluster";

function config(voters: string[]): Entry {
  return { index: 1, term: 1, type: "config", data: encodeMembership({ voters, learners: [] }) };
}

function entries(from: number, to: number, term: number, tag = `t${term}`): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({ index: from + i, term, type: "normal" as const, data: `${tag}-${from + i}` }));
}

function appendResponse(from: string, to: string, term: number, index: number): Message {
  return { type: "appendResponse", from, to, term, reject: false, index, hintIndex: 0, hintTerm: 0 };
}

describe("log replication", () => {
  test("Figure 8: a leader does not commit an entry of an earlier term by counting replicas, only under one of its own term", () => {
    const voters = ["n1", "n2", "n3", "n4", "n5"];
    const cluster = new TestCluster(voters);
    const withOldEntry = [config(voters), { index: 2, term: 2, type: "normal" as const, data: "from-term-2" }];
    for (const id of ["n1", "n2", "n3"]) cluster.withDisk(id, { hardState: { term: 3, vote: null, commit: 1 }, snapshot: null, entries: withOldEntry });
    for (const id of ["n4", "n5"]) cluster.withDisk(id, { hardState: { term: 3, vote: null, commit: 1 }, snapshot: null, entries: [config(voters)] });
    cluster.filter = (m) => m.type !== "append" && m.type !== "heartbeat";
    cluster.elect("n1");
    const leader = cluster.raft("n1");
    const term = leader.status().term;
    expect(leader.termAt(3)).toBe(term); // the no-op

    leader.step(appendResponse("n2", "n1", term, 2));
    leader.step(appendResponse("n3", "n1", term, 2));
    cluster.settle();
    expect(leader.status().commit).toBe(1); // index 2 is on 3 of 5 nodes, yet of term 2

    leader.step(appendResponse("n2", "n1", term, 3));
    cluster.settle();
    expect(leader.status().commit).toBe(1);

    leader.step(appendResponse("n3", "n1", term, 3));
    cluster.settle();
    expect(leader.status().commit).toBe(3); // the term-4 no-op commits, and index 2 with it
    expect(cluster.node("n1").appliedValues).toEqual(["from-term-2"]);
  });

  test("a follower commits no further than the entries an append vouches for, even if its log is longer", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    const follower = cluster.withDisk("n3", {
      hardState: { term: 2, vote: null, commit: 1 },
      snapshot: null,
      entries: [config(["n1", "n2", "n3"]), ...entries(2, 2, 1), ...entries(3, 4, 2, "stale")],
    });
    follower.raft.step({ type: "append", from: "n1", to: "n3", term: 3, prevIndex: 1, prevTerm: 1, entries: entries(2, 2, 1), commit: 4 });
    const ready = follower.raft.ready();
    expect(ready.hardState).toEqual({ term: 3, vote: null, commit: 2 });
    expect(ready.messages).toMatchObject([{ type: "appendResponse", reject: false, index: 2 }]);
  });

  test("a follower with a long conflicting tail is repaired in one rejection, not one per entry", () => {
    const voters = ["n1", "n2", "n3"];
    const cluster = new TestCluster(voters);
    const good = [config(voters), ...entries(2, 50, 1), ...entries(51, 100, 3)];
    for (const id of ["n1", "n2"]) cluster.withDisk(id, { hardState: { term: 3, vote: null, commit: 50 }, snapshot: null, entries: good });
    cluster.withDisk("n3", { hardState: { term: 3, vote: null, commit: 50 }, snapshot: null, entries: [config(voters), ...entries(2, 50, 1), ...entries(51, 150, 2)] });
    cluster.elect("n1");
    expect(cluster.count((m) => m.type === "appendResponse" && m.from === "n3" && m.reject)).toBe(1);
    const leader = cluster.raft("n1").status();
    const follower = cluster.raft("n3").status();
    expect(follower.lastIndex).toBe(leader.lastIndex);
    expect(follower.commit).toBe(leader.commit);
    expect(cluster.raft("n3").termAt(100)).toBe(3);
    expect(cluster.node("n3").appliedValues.at(-1)).toBe("t3-100");
  });

  test("batching: entries proposed between two Readys travel together, up to maxEntriesPerAppend per message", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"], { maxEntriesPerAppend: 64 });
    cluster.elect("n1");
    const before = cluster.delivered.length;
    for (let i = 0; i < 100; i++) expect(cluster.raft("n1").propose(`e${i}`).ok).toBe(true);
    cluster.settle();
    const appendsToN2 = cluster.delivered.slice(before).filter((m) => m.type === "append" && m.to === "n2" && m.entries.length > 0);
    expect(appendsToN2.map((m) => (m.type === "append" ? m.entries.length : 0))).toEqual([64, 36]);
    expect(cluster.node("n2").appliedValues).toHaveLength(100);
  });

  test("pipelining: a leader streams up to maxInflightAppends unacknowledged messages, then waits", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"], { maxEntriesPerAppend: 1, maxInflightAppends: 4 });
    cluster.elect("n1");
    let answering = false;
    cluster.filter = (m) => answering || !(m.from === "n2" && m.type === "appendResponse");
    const before = cluster.delivered.length;
    for (let i = 0; i < 10; i++) cluster.propose("n1", `e${i}`);
    const sent = cluster.delivered.slice(before).filter((m) => m.type === "append" && m.to === "n2" && m.entries.length > 0);
    expect(sent).toHaveLength(4);
    expect(cluster.raft("n1").status().commit).toBe(12); // n3 answers: a majority
    answering = true;
    cluster.tick(5);
    expect(cluster.node("n2").appliedValues).toHaveLength(10);
    expect(cluster.raft("n1").progressOf("n2")).toMatchObject({ match: 12, state: "replicate" });
  });

  test("minReplications: with 3 of 3 required, an entry stored on a majority stays uncommitted until the third node has it", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"], { minReplications: 3 });
    cluster.elect("n1");
    cluster.isolate("n3");
    const index = cluster.propose("n1", "durable");
    cluster.tick(3, ["n1", "n2"]);
    expect(cluster.raft("n1").status().commit).toBeLessThan(index);
    expect(cluster.node("n1").appliedValues).toEqual([]);
    cluster.heal();
    cluster.tick(3);
    expect(cluster.raft("n1").status().commit).toBeGreaterThanOrEqual(index);
    for (const id of ["n1", "n2", "n3"]) expect(cluster.node(id).appliedValues).toEqual(["durable"]);
  });

  test("with the default minReplications a majority suffices", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    cluster.isolate("n3");
    const index = cluster.propose("n1", "quick");
    expect(cluster.raft("n1").status().commit).toBe(index);
  });

  test("a restarted node keeps exactly what it persisted and re-applies its committed entries", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    cluster.elect("n1");
    for (const value of ["a", "b", "c"]) cluster.propose("n1", value);
    cluster.tick(2);
    const node = cluster.node("n2");
    const before = node.raft.status();
    node.restart();
    expect(node.appliedValues).toEqual([]);
    expect(node.raft.status()).toMatchObject({ term: before.term, commit: before.commit, lastIndex: before.lastIndex, role: "follower" });
    cluster.settle();
    expect(node.appliedValues).toEqual(["a", "b", "c"]);
  });

  test("entries replaced while their Ready was being persisted are handed out again in the next Ready", () => {
    const cluster = new TestCluster(["n1", "n2", "n3"]);
    const follower = cluster.node("n3").raft;
    cluster.settle();
    follower.step({ type: "append", from: "n1", to: "n3", term: 2, prevIndex: 1, prevTerm: 1, entries: entries(2, 3, 2, "old"), commit: 1 });
    const slowWrite = follower.ready();
    expect(slowWrite.entries.map((entry) => entry.data)).toEqual(["old-2", "old-3"]);
    follower.step({ type: "append", from: "n2", to: "n3", term: 3, prevIndex: 1, prevTerm: 1, entries: entries(2, 3, 3, "new"), commit: 1 });
    follower.advance(slowWrite);
    expect(follower.ready().entries.map((entry) => entry.data)).toEqual(["new-2", "new-3"]);
  });
});
