/**
 * Snapshots are written off the event loop: while the image of a large state is being written,
 * the node keeps committing writes, and the log is compacted to the index the image reflects
 * (the entries it covers leave the Raft database a step per event-loop turn). Checked by the
 * order of events, not by timings.
 */
import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../../../src/db";
import { RaftProposer, type SnapshotEvent } from "../../../src/raft/driver/raft-proposer";
import type { Command, CommandResult } from "../../../src/state/commands";
import { StateMachine } from "../../../src/state/state-machine";
import { tempDir } from "../../helpers/processes";
import { enqueue as enqueueCommand } from "../../state/harness";

const SELF = "http://solo";
const BALLAST_MB = 64;

let proposer: RaftProposer<Command, CommandResult> | undefined;
let db: Database | undefined;
afterEach(() => {
  proposer?.close();
  db?.close();
  proposer = db = undefined;
});

const enqueue = (jobId: string): Command => enqueueCommand({ jobId, at: 1_000, maxAttempts: 1, backoffMs: 0 });

function startNode(dir: string, snapshotIntervalEntries: number): { proposer: RaftProposer<Command, CommandResult>; db: Database; snapshotDir: string } {
  const dbPath = join(dir, "state.db");
  const stateDb = openDatabase(dbPath);
  const snapshotDir = `${dbPath}.snapshots`;
  const node = new RaftProposer<Command, CommandResult>({
    id: SELF,
    bootstrapVoters: [SELF],
    raftDbPath: `${dbPath}.raft`,
    snapshotDir,
    stateDb,
    applier: new StateMachine(stateDb),
    send: () => {},
    tickMs: 10,
    electionTicks: 5,
    heartbeatTicks: 1,
    minReplications: 1,
    snapshotIntervalEntries,
    snapshotRetainEntries: 0,
    onFatal: (error) => {
      throw error;
    },
  });
  return { proposer: node, db: stateDb, snapshotDir };
}

async function leaderOf(node: RaftProposer<Command, CommandResult>): Promise<void> {
  if (node.role() === "leader") return;
  await new Promise<void>((resolve) => {
    const stop = node.onSoftState((soft) => {
      if (soft.role !== "leader") return;
      stop();
      resolve();
    });
  });
}

/** Starts a node in `dir` as this test's node (closed after it) and waits until it leads. */
async function startLeader(dir: string, snapshotIntervalEntries: number): Promise<RaftProposer<Command, CommandResult>> {
  const node = startNode(dir, snapshotIntervalEntries);
  proposer = node.proposer;
  db = node.db;
  await leaderOf(proposer);
  return proposer;
}

test("a write proposed while the image of a large state is being written commits before the image is done", async () => {
  const dir = tempDir();
  const node = startNode(dir, 10);
  proposer = node.proposer;
  db = node.db;
  // A large state, so the image takes far longer than one write: rows the snapshot copies like any table.
  db.run("CREATE TABLE ballast (blob BLOB NOT NULL) STRICT");
  db.run(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${BALLAST_MB * 16}) INSERT INTO ballast SELECT randomblob(65536) FROM n`);
  await leaderOf(proposer);

  const events: string[] = [];
  const node0 = proposer;
  let duringSnapshot: Promise<CommandResult> | undefined;
  const taken = new Promise<Extract<SnapshotEvent, { type: "taken" }>>((resolve, reject) => {
    node0.onSnapshot((event) => {
      events.push(`snapshot ${event.type}`);
      if (event.type === "started") {
        duringSnapshot = node0.propose(enqueue("during-snapshot"));
        void duringSnapshot.then(() => events.push("write committed"));
      }
      if (event.type === "taken") resolve(event);
      if (event.type === "failed") reject(new Error(event.message));
    });
  });
  // Due after 10 to 15 entries (each node stretches the interval by its own share).
  for (let i = 0; events.length === 0 && i < 100; i++) await proposer.propose(enqueue(`job-${i}`));
  const snapshot = await taken;
  expect(await duringSnapshot!).toMatchObject({ ok: true, value: { id: "during-snapshot", state: "queued" } });

  expect(events).toEqual(["snapshot started", "write committed", "snapshot taken"]);
  expect(snapshot.bytes).toBeGreaterThan(BALLAST_MB * 1024 * 1024);
  // The log is compacted to the index the image holds, which is where the snapshot started or later.
  expect(proposer.status().snapshotIndex).toBe(snapshot.index);
  expect(snapshot.index).toBeGreaterThanOrEqual(10);
  expect(readdirSync(node.snapshotDir)).toEqual([expect.stringMatching(new RegExp(`^snapshot-0*${snapshot.index}-\\d+\\.db$`))]);
});

test("a node restarted after a background snapshot comes back from it with every write", async () => {
  const dir = tempDir();
  const node0 = await startLeader(dir, 10);
  let started = false;
  const taken = new Promise<number>((resolve) =>
    node0.onSnapshot((event) => {
      started = true;
      if (event.type === "taken") resolve(event.index);
    }),
  );
  let written = 0;
  while (!started && written < 100) await node0.propose(enqueue(`job-${written++}`));
  const snapshotIndex = await taken;
  node0.close();
  db!.close();

  const node1 = await startLeader(dir, 10);
  expect(node1.status().snapshotIndex).toBe(snapshotIndex);
  await node1.propose(enqueue("after-restart"));
  const ids = db!.query<{ id: string }, []>("SELECT id FROM jobs ORDER BY seq").all().map((row) => row.id);
  expect(ids).toEqual([...Array.from({ length: written }, (_, i) => `job-${i}`), "after-restart"]);
});

test("after a snapshot the entries it covers leave the Raft database while writes go on", async () => {
  const dir = tempDir();
  const leader = await startLeader(dir, 10);
  const taken = new Promise<number>((resolve) => leader.onSnapshot((event) => event.type === "taken" && resolve(event.index)));
  let written = 0;
  while (written < 30) await leader.propose(enqueue(`job-${written++}`));
  const snapshotIndex = await taken;
  const raftDb = new Database(join(dir, "state.db.raft"), { readonly: true });
  try {
    const oldest = () => raftDb.query<{ first: number | null }, []>("SELECT min(idx) AS first FROM raft_entries").get()!.first;
    // The deletes run a step per event-loop turn after each compaction: write on until they caught up.
    for (const deadline = Date.now() + 5_000; oldest() !== leader.status().firstIndex; ) {
      if (Date.now() > deadline) throw new Error(`entries before ${leader.status().firstIndex} still stored (oldest ${oldest()})`);
      await leader.propose(enqueue(`job-${written++}`));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(leader.status().snapshotIndex).toBeGreaterThanOrEqual(snapshotIndex);
    expect(leader.status().firstIndex).toBeGreaterThan(1);
  } finally {
    raftDb.close();
  }
});
