/**
 * The Raft driver in one process: three RaftProposers on real SQLite files, wired by an in-memory
 * network that delivers between turns of the event loop (snapshots as their image files). What
 * is checked is what a coordinator sees: proposals resolve with the state machine's result on
 * the leader, every node's state database holds the same rows, a restarted node comes back from
 * its files, and a node behind a compaction catches up by snapshot.
 */
import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { copyFileSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../../src/db";
import type { Message } from "../../src/raft/core";
import { RaftProposer, RaftRefusal } from "../../src/raft/driver/raft-proposer";
import type { Command, CommandResult } from "../../src/state/commands";
import { StateMachine } from "../../src/state/state-machine";
import { tempDir } from "../helpers/processes";
import { enqueue as enqueueCommand } from "../state/harness";

const IDS = ["http://n1", "http://n2", "http://n3"];

interface TestNode {
  id: string;
  proposer: RaftProposer<Command, CommandResult>;
  db: Database;
  snapshotDir: string;
}

class Network {
  readonly nodes = new Map<string, TestNode>();
  readonly down = new Set<string>();

  constructor(
    readonly dir: string,
    readonly snapshotIntervalEntries = 10_000,
    readonly driverOptions: { proposalTimeoutMs?: number; followerApplyDelayMs?: number } = {},
  ) {}

  start(id: string): TestNode {
    const dbPath = join(this.dir, `${encodeURIComponent(id)}.db`);
    const db = openDatabase(dbPath);
    const snapshotDir = `${dbPath}.snapshots`;
    const proposer = new RaftProposer<Command, CommandResult>({
      id,
      bootstrapVoters: IDS,
      raftDbPath: `${dbPath}.raft`,
      snapshotDir,
      stateDb: db,
      applier: new StateMachine(db),
      send: (messages) => this.deliver(messages),
      tickMs: 10,
      electionTicks: 10,
      heartbeatTicks: 1,
      minReplications: 2,
      snapshotIntervalEntries: this.snapshotIntervalEntries,
      snapshotRetainEntries: 2,
      ...this.driverOptions,
      onFatal: (error) => {
        throw error;
      },
    });
    const node = { id, proposer, db, snapshotDir };
    this.nodes.set(id, node);
    this.down.delete(id);
    return node;
  }

  stop(id: string): void {
    const node = this.nodes.get(id)!;
    node.proposer.close();
    node.db.close();
    this.nodes.delete(id);
    this.down.add(id);
  }

  closeAll(): void {
    for (const id of [...this.nodes.keys()]) this.stop(id);
  }

  private deliver(messages: Message[]): void {
    for (const message of messages) {
      const from = this.nodes.get(message.from);
      setImmediate(() => {
        const to = this.nodes.get(message.to);
        if (to === undefined || this.down.has(message.to)) return;
        if (message.type === "snapshot") {
          const image = readFileSync(join(from!.snapshotDir, message.snapshot.data));
          void to.proposer.receiveSnapshot(message, image);
        } else {
          to.proposer.receive([message]);
        }
      });
    }
  }

  async leader(timeoutMs = 5_000): Promise<TestNode> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const leaders = [...this.nodes.values()].filter((node) => node.proposer.role() === "leader");
      if (leaders.length === 1) return leaders[0]!;
      if (Date.now() > deadline) throw new Error(`no single leader after ${timeoutMs} ms (${leaders.length})`);
      await Bun.sleep(10);
    }
  }
}

const enqueue = (jobId: string, at = 1_000): Command => enqueueCommand({ jobId, at, maxAttempts: 1, backoffMs: 0 });

const jobIds = (db: Database) => db.query<{ id: string }, []>("SELECT id FROM jobs ORDER BY seq").all().map((row) => row.id);

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

let network: Network | undefined;
afterEach(() => network?.closeAll());

test("the leader's proposal resolves with the state machine's result and every node applies it", async () => {
  network = new Network(tempDir());
  for (const id of IDS) network.start(id);
  const leader = await network.leader();
  const result = await leader.proposer.propose(enqueue("job-a"));
  expect(result).toMatchObject({ ok: true, value: { id: "job-a", state: "queued" } });
  await until(() => [...network!.nodes.values()].every((node) => jobIds(node.db).includes("job-a")), "job-a everywhere");
  const follower = [...network.nodes.values()].find((node) => node !== leader)!;
  const refusal = await follower.proposer.propose(enqueue("job-b")).catch((error: unknown) => error);
  expect(refusal).toBeInstanceOf(RaftRefusal);
  expect((refusal as RaftRefusal).reason).toBe("notLeader");
  expect((refusal as RaftRefusal).leader).toBe(leader.id);
});

test("fifty concurrent proposals all resolve, and a node restarted from its files keeps its state and catches up", async () => {
  network = new Network(tempDir());
  for (const id of IDS) network.start(id);
  const leader = await network.leader();
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => leader.proposer.propose(enqueue(`job-${i}`))));
  expect(results.every((result) => result.ok)).toBe(true);
  const follower = [...network.nodes.values()].find((node) => node !== leader)!;
  await until(() => jobIds(follower.db).length === 50, "50 jobs on the follower");
  network.stop(follower.id);
  await leader.proposer.propose(enqueue("while-down"));
  const restarted = network.start(follower.id);
  await until(() => jobIds(restarted.db).includes("while-down"), "the restarted node to catch up");
  expect(jobIds(restarted.db)).toEqual(jobIds(leader.db));
});

test("a node down across a compaction catches up from a snapshot image", async () => {
  network = new Network(tempDir(), 20);
  for (const id of IDS) network.start(id);
  const leader = await network.leader();
  const lagging = [...network.nodes.values()].find((node) => node !== leader)!;
  network.stop(lagging.id);
  for (let i = 0; i < 60; i++) await leader.proposer.propose(enqueue(`job-${i}`));
  // Snapshots are written in the background: the last write may commit before one is done.
  await until(() => leader.proposer.status().snapshotIndex > 20, "a snapshot on the leader");
  expect(readdirSync(leader.snapshotDir).filter((name) => name.endsWith(".db"))).toHaveLength(1);
  const restarted = network.start(lagging.id);
  await until(() => jobIds(restarted.db).length === 60, "the lagging node to install the snapshot and catch up");
  expect(jobIds(restarted.db)).toEqual(jobIds(leader.db));
  expect(restarted.proposer.status().snapshotIndex).toBeGreaterThan(0);
  const lastApplied = (db: Database) => db.query<{ value: number }, []>("SELECT value FROM state_meta WHERE key = 'last_applied'").get()!.value;
  await until(() => lastApplied(restarted.db) === lastApplied(leader.db), "same last_applied");
});

test("a proposal that cannot commit (its followers are down) is rejected once its timeout has passed", async () => {
  network = new Network(tempDir(), 10_000, { proposalTimeoutMs: 300 });
  for (const id of IDS) network.start(id);
  const leader = await network.leader();
  for (const id of IDS) if (id !== leader.id) network.stop(id);
  const startedAt = performance.now();
  const refusal = await leader.proposer.propose(enqueue("job-never")).catch((error: unknown) => error);
  expect(refusal).toBeInstanceOf(RaftRefusal);
  expect((refusal as RaftRefusal).reason).toBe("timeout");
  expect(performance.now() - startedAt).toBeGreaterThanOrEqual(300);
});

test("a follower defers applying committed entries, and applies them first when it takes over", async () => {
  network = new Network(tempDir(), 10_000, { followerApplyDelayMs: 60_000 });
  for (const id of IDS) network.start(id);
  const leader = await network.leader();
  await leader.proposer.propose(enqueue("job-a"));
  const committedAt = leader.proposer.status().commit;
  const followers = [...network.nodes.values()].filter((node) => node !== leader);
  await until(() => followers.every((node) => node.proposer.status().commit >= committedAt), "the followers to learn the commit");
  for (const follower of followers) expect(jobIds(follower.db)).toEqual([]);

  network.stop(leader.id);
  const successor = await network.leader();
  await until(() => jobIds(successor.db).includes("job-a"), "the new leader to apply what it had deferred");
  const result = await successor.proposer.propose(enqueue("job-b"));
  expect(result.ok).toBe(true);
  expect(jobIds(successor.db)).toEqual(["job-a", "job-b"]);
});

test("the log's and the state's WALs are checkpointed into their database files by a worker, not inside a commit", async () => {
  const dir = tempDir();
  network = new Network(dir);
  for (const id of IDS) network.start(id);
  const leader = await network.leader();
  await leader.proposer.propose(enqueue("job-a"));
  // SQLite's own checkpoint (in a COMMIT, on the event loop) is off on the driver's connections.
  expect(leader.db.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get()).toEqual({ wal_autocheckpoint: 0 });
  // Until a checkpoint copies them, committed rows live only in the -wal files: the database files
  // alone show them once the worker ran (SQLite would wait for 1,000 pages).
  const statePath = join(dir, `${encodeURIComponent(leader.id)}.db`);
  const copy = join(tempDir(), "alone.db");
  await until(
    () => countInFileAlone(statePath, copy, "SELECT count(*) AS n FROM jobs") === 1 && countInFileAlone(`${statePath}.raft`, copy, "SELECT count(*) AS n FROM raft_entries") >= 2,
    "both database files to hold what was committed",
  );
});

/** Counts rows in a copy (at `copy`) of the database file without its WAL (0 while it has no such table yet). */
function countInFileAlone(path: string, copy: string, sql: string): number {
  copyFileSync(path, copy);
  let db: Database | null = null;
  try {
    db = new Database(copy, { readonly: true });
    return db.query<{ n: number }, []>(sql).get()!.n;
  } catch {
    return 0; // no such table yet, or a copy taken in the middle of a checkpoint
  } finally {
    db?.close();
  }
}
