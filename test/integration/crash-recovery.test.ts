/**
 * Crash recovery of a real coordinator process. kill -9 during a burst of concurrent enqueues:
 * after a restart on the same file, every acknowledged job is there exactly once, and
 * re-sending any request with its idempotency key creates nothing new. And a log entry written
 * beyond last_applied while the coordinator is down is applied at start-up.
 */
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import type { Job } from "../../src/api";
import type { Command } from "../../src/state/commands";
import { isGone, killAll, startCoordinatorProcess } from "../helpers/processes";

afterAll(killAll);

const CLIENTS = 64;
/** Acknowledgements to wait for before the kill, so the kill lands mid-burst. */
const ACKS_BEFORE_KILL = 300;

interface Outcome {
  /** Every request sent, by idempotency key: the body carries the key, so jobs can be matched to requests. */
  sent: Map<string, { kind: "shell"; command: string; args: string[] }>;
  /** Job id answered with a 2xx, by key. */
  acknowledged: Map<string, string>;
  /** Answers that were neither a 2xx nor a dropped connection (there should be none). */
  unexpected: string[];
}

async function enqueueBurstUntilKilled(url: string, kill: () => Promise<void>): Promise<Outcome> {
  const outcome: Outcome = { sent: new Map(), acknowledged: new Map(), unexpected: [] };
  let killing: Promise<void> | undefined;
  const client = async (clientIndex: number) => {
    for (let n = 0; ; n++) {
      const key = `burst-${clientIndex}-${n}`;
      const body = { kind: "shell" as const, command: "echo", args: [key] };
      outcome.sent.set(key, body);
      let response: Response;
      try {
        response = await fetch(`${url}/v1/jobs`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-idempotency-key": key },
          body: JSON.stringify(body),
        });
      } catch {
        return; // the coordinator is gone: this request was not acknowledged
      }
      const text = await response.text().catch(() => null);
      if (text === null) return;
      if (response.status !== 201) {
        outcome.unexpected.push(`${key}: ${response.status} ${text}`);
        return;
      }
      outcome.acknowledged.set(key, (JSON.parse(text) as Job).id);
      if (outcome.acknowledged.size >= ACKS_BEFORE_KILL) killing ??= kill();
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
  await killing;
  return outcome;
}

function jobsByKey(dbPath: string): Map<string, string[]> {
  const db = new Database(dbPath, { readonly: true });
  try {
    const byKey = new Map<string, string[]>();
    for (const row of db.query<{ id: string; spec: string }, []>("SELECT id, spec FROM jobs").all()) {
      const key = (JSON.parse(row.spec) as { args: string[] }).args[0]!;
      byKey.set(key, [...(byKey.get(key) ?? []), row.id]);
    }
    return byKey;
  } finally {
    db.close();
  }
}

test("kill -9 during a burst of enqueues: every acknowledged job survives exactly once", async () => {
  const first = await startCoordinatorProcess();
  const outcome = await enqueueBurstUntilKilled(first.url, () => first.kill9());
  expect(isGone(first.pid)).toBe(true);
  expect(outcome.unexpected).toEqual([]);
  expect(outcome.acknowledged.size).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);
  // The kill landed mid-burst: requests were in flight that never got an answer.
  expect(outcome.sent.size).toBeGreaterThan(outcome.acknowledged.size);

  const second = await startCoordinatorProcess({ dbPath: first.dbPath });
  const stored = jobsByKey(first.dbPath);
  for (const [key, jobId] of outcome.acknowledged) {
    expect({ key, ids: stored.get(key) }).toEqual({ key, ids: [jobId] });
  }
  for (const [key, ids] of stored) expect({ key, count: ids.length }).toEqual({ key, count: 1 });

  const sample = [...outcome.acknowledged].slice(0, 20);
  for (const [, jobId] of sample) {
    const reply = await fetch(`${second.url}/v1/jobs/${jobId}`);
    expect(reply.status).toBe(200);
    expect(((await reply.json()) as Job).state).toBe("queued");
  }

  // Re-send every request with its key, as a client retrying after the crash would.
  const requests = [...outcome.sent];
  const answers = new Map<string, { status: number; id: string }>();
  const resend = async (worker: number) => {
    for (let i = worker; i < requests.length; i += CLIENTS) {
      const [key, body] = requests[i]!;
      const response = await fetch(`${second.url}/v1/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-idempotency-key": key },
        body: JSON.stringify(body),
      });
      answers.set(key, { status: response.status, id: ((await response.json()) as Job).id });
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => resend(i)));
  for (const [key, jobId] of outcome.acknowledged) {
    expect({ key, ...answers.get(key) }).toEqual({ key, status: 201, id: jobId });
  }
  const after = jobsByKey(first.dbPath);
  expect(after.size).toBe(outcome.sent.size);
  for (const [key, ids] of after) {
    expect({ key, count: ids.length, id: ids[0] }).toEqual({ key, count: 1, id: answers.get(key)!.id });
  }
  expect(await second.stop()).toBe(0);
}, 60_000);

test("an entry logged beyond last_applied while the coordinator was down is applied at start-up", async () => {
  const first = await startCoordinatorProcess();
  const created = await fetch(`${first.url}/v1/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind: "shell", command: "echo", id: "before-restart" }),
  });
  expect(created.status).toBe(201);
  expect(await first.stop()).toBe(0);

  const db = new Database(first.dbPath);
  const lastApplied = db.query<{ value: number }, []>("SELECT value FROM state_meta WHERE key = 'last_applied'").get()!.value;
  const lastLogged = db.query<{ idx: number }, []>("SELECT max(idx) AS idx FROM raft_log").get()!.idx;
  expect(lastLogged).toBe(lastApplied);
  const at = Date.now();
  const entries: Command[] = [
    {
      type: "enqueue",
      at,
      jobId: "from-the-log",
      spec: { kind: "shell", command: "echo", args: ["replayed"] },
      requires: [],
      priority: 0,
      timeoutMs: null,
      maxAttempts: 3,
      retryOnFailure: false,
      backoffMs: 1000,
    },
    { type: "cancel", at, jobId: "before-restart", reason: "replayed" },
  ];
  const append = db.query("INSERT INTO raft_log (idx, term, data) VALUES (?, 1, ?)");
  entries.forEach((command, i) => append.run(lastApplied + 1 + i, JSON.stringify(command)));
  db.close();

  const second = await startCoordinatorProcess({ dbPath: first.dbPath });
  const replayed = await fetch(`${second.url}/v1/jobs/from-the-log`);
  expect(replayed.status).toBe(200);
  expect(await replayed.json()).toMatchObject({ id: "from-the-log", state: "queued", spec: { args: ["replayed"] } });
  const cancelled = await fetch(`${second.url}/v1/jobs/before-restart`);
  expect(await cancelled.json()).toMatchObject({ state: "cancelled", lastError: "cancelled: replayed" });
  const state = (await (await fetch(`${second.url}/v1/state`)).json()) as { lastApplied: number };
  expect(state.lastApplied).toBe(lastApplied + 2);
  expect(await second.stop()).toBe(0);
});
