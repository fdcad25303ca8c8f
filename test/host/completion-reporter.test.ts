/** The completion reporter with a scripted coordinator: when it sends, what it batches, how each job ends. */
import { describe, expect, test } from "bun:test";
import type { CompleteJobsResponse, CompletionResult, HostCompletion, Job } from "../../src/api";
import { ApiError } from "../../src/client/http";
import { CompletionReporter, completionSender } from "../../src/host/completion-reporter";

interface Call {
  completions: HostCompletion[];
  claimSlots: number;
  answer(results: CompletionResult[]): void;
  fail(error: unknown): void;
}

/** A reporter whose every request waits until the test answers or fails it. */
function scripted() {
  const calls: Call[] = [];
  const lines: string[] = [];
  let revocations = 0;
  const reporter = new CompletionReporter({
    send: (completions, claimSlots) =>
      new Promise<CompleteJobsResponse>((resolve, reject) => {
        calls.push({ completions, claimSlots, answer: (results) => resolve({ results }), fail: reject });
      }),
    onRevoked: () => revocations++,
    log: (line) => lines.push(line),
  });
  return { reporter, calls, lines, revocations: () => revocations };
}

function completion(jobId: string, attempt = 1): HostCompletion {
  return { jobId, attempt, status: "succeeded", result: { exitCode: 0, signal: null, durationMs: 5 } };
}

const accepted = (jobId: string): CompletionResult => ({ jobId, ok: true, state: "succeeded" });
const later = () => Date.now() + 60_000;
const past = () => Date.now() - 1;

/** Lets the reporter's promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tracks whether a report's promise has resolved. */
function watch(promise: Promise<void>): { done: boolean } {
  const state = { done: false };
  void promise.then(() => (state.done = true));
  return state;
}

describe("completion reporter", () => {
  test("a completion on an idle reporter is sent at once, alone", async () => {
    const { reporter, calls } = scripted();
    const report = watch(reporter.report(completion("a"), later));
    expect(calls.map((call) => call.completions)).toEqual([[completion("a")]]);
    await settle();
    expect(report.done).toBe(false);
    calls[0]!.answer([accepted("a")]);
    await settle();
    expect(report.done).toBe(true);
  });

  test("completions that finish while a request is in flight go together in the next one, when it returns", async () => {
    const { reporter, calls } = scripted();
    const first = watch(reporter.report(completion("a"), later));
    const second = watch(reporter.report(completion("b"), later));
    const third = watch(reporter.report(completion("c"), later));
    await settle();
    expect(calls).toHaveLength(1);
    calls[0]!.answer([accepted("a")]);
    await settle();
    expect(first.done).toBe(true);
    expect(calls.map((call) => call.completions.map((c) => c.jobId))).toEqual([["a"], ["b", "c"]]);
    expect(second.done || third.done).toBe(false);
    calls[1]!.answer([accepted("b"), accepted("c")]);
    await settle();
    expect(second.done && third.done).toBe(true);
  });

  test("a request carries at most 64 completions; the rest follow in the next", async () => {
    const { reporter, calls } = scripted();
    void reporter.report(completion("first"), later);
    const ids = Array.from({ length: 70 }, (_, index) => `job${index}`);
    for (const id of ids) void reporter.report(completion(id), later);
    calls[0]!.answer([accepted("first")]);
    await settle();
    expect(calls[1]!.completions.map((c) => c.jobId)).toEqual(ids.slice(0, 64));
    calls[1]!.answer(ids.slice(0, 64).map(accepted));
    await settle();
    expect(calls[2]!.completions.map((c) => c.jobId)).toEqual(ids.slice(64));
  });

  test("a refused completion is logged and done on its own; the others in its batch are accepted", async () => {
    const { reporter, calls, lines, revocations } = scripted();
    void reporter.report(completion("first"), later);
    const ok = watch(reporter.report(completion("a"), later));
    const stale = watch(reporter.report(completion("b"), later));
    calls[0]!.answer([accepted("first")]);
    await settle();
    calls[1]!.answer([
      accepted("a"),
      {
        jobId: "b",
        ok: false,
        status: 409,
        error: { error: "stale_attempt", field: "completions.1.attempt", message: 'host "h1" does not hold attempt 1 of job "b" (job is queued, attempt 2)' },
      },
    ]);
    await settle();
    expect(ok.done && stale.done).toBe(true);
    expect(lines).toEqual(['job b (attempt 1): completion refused: attempt: host "h1" does not hold attempt 1 of job "b" (job is queued, attempt 2)']);
    expect(revocations()).toBe(0);
    expect(calls).toHaveLength(2);
  });

  test("a refusal of one completion that means revocation revokes the host", async () => {
    const { reporter, calls, revocations } = scripted();
    const report = watch(reporter.report(completion("a"), later));
    calls[0]!.answer([{ jobId: "a", ok: false, status: 409, error: { error: "host_not_active", message: "host h1 is revoked" } }]);
    await settle();
    expect(report.done).toBe(true);
    expect(revocations()).toBe(1);
  });

  test("a refusal of the whole request is logged for each job in it; revocation revokes the host", async () => {
    const { reporter, calls, lines, revocations } = scripted();
    void reporter.report(completion("first"), later);
    const a = watch(reporter.report(completion("a"), later));
    const b = watch(reporter.report(completion("b", 2), later));
    calls[0]!.fail(new ApiError(400, { error: "validation", field: "completions.0.result", message: "completions.0.result: bad" }, "u"));
    await settle();
    expect(lines).toEqual(["job first (attempt 1): completion refused: completions.0.result: bad"]);
    expect(revocations()).toBe(0);
    calls[1]!.fail(new ApiError(401, { error: "host_revoked", message: "host h1 was revoked" }, "u"));
    await settle();
    expect(a.done && b.done).toBe(true);
    expect(lines.slice(1)).toEqual([
      "job a (attempt 1): completion refused: host h1 was revoked",
      "job b (attempt 2): completion refused: host h1 was revoked",
    ]);
    expect(revocations()).toBeGreaterThanOrEqual(1);
    expect(calls).toHaveLength(2);
  });

  test("after a failed request, a completion is sent again while its lease lasts and dropped once it has run out", async () => {
    const { reporter, calls, lines } = scripted();
    let deadlineOfA = Date.now() + 60_000;
    const a = watch(reporter.report(completion("a"), () => deadlineOfA));
    const expired = watch(reporter.report(completion("b"), past));
    const fresh = watch(reporter.report(completion("c"), later));
    calls[0]!.fail(new Error("no coordinator answered"));
    await settle();
    // The failed one goes again first, with what queued meanwhile.
    expect(calls[1]!.completions.map((c) => c.jobId)).toEqual(["a", "b", "c"]);
    calls[1]!.fail(new Error("no coordinator answered"));
    await settle();
    expect(expired.done).toBe(true);
    expect(lines).toEqual(["job b (attempt 1): could not report before its lease ran out: no coordinator answered"]);
    expect(calls[2]!.completions.map((c) => c.jobId)).toEqual(["a", "c"]);
    deadlineOfA = Date.now() - 1;
    calls[2]!.fail(new Error("timed out"));
    await settle();
    expect(a.done).toBe(true);
    expect(lines[1]).toBe("job a (attempt 1): could not report before its lease ran out: timed out");
    expect(calls[3]!.completions.map((c) => c.jobId)).toEqual(["c"]);
    calls[3]!.answer([accepted("c")]);
    await settle();
    expect(fresh.done).toBe(true);
    expect(lines).toHaveLength(2);
  });
});

describe("completion reporter: claiming with a batch", () => {
  test("asks for a job per completion it carries, and hands the jobs over before the completions settle", async () => {
    const sent: { jobs: string[]; claimSlots: number }[] = [];
    const order: string[] = [];
    const answers: ((response: CompleteJobsResponse) => void)[] = [];
    const reporter = new CompletionReporter({
      send: (completions, claimSlots) => {
        sent.push({ jobs: completions.map((c) => c.jobId), claimSlots });
        return new Promise((resolve) => answers.push(resolve));
      },
      claimSlots: (count) => count,
      onClaimed: (jobs) => order.push(`claimed ${jobs.map((job) => job.id).join(",")}`),
      onRevoked: () => {},
      log: () => {},
    });
    void reporter.report(completion("a"), later).then(() => order.push("a settled"));
    void reporter.report(completion("b"), later).then(() => order.push("b settled"));
    void reporter.report(completion("c"), later).then(() => order.push("c settled"));
    answers[0]!({ results: [accepted("a")], jobs: [{ id: "next1" } as Job] });
    await settle();
    answers[1]!({ results: [accepted("b"), accepted("c")], jobs: [] });
    await settle();
    expect(sent).toEqual([
      { jobs: ["a"], claimSlots: 1 },
      { jobs: ["b", "c"], claimSlots: 2 },
    ]);
    expect(order).toEqual(["claimed next1", "a settled", "b settled", "c settled"]);
  });

  test("without a claimSlots callback it claims nothing", async () => {
    const { reporter, calls } = scripted();
    void reporter.report(completion("a"), later);
    expect(calls[0]!.claimSlots).toBe(0);
  });
});

describe("completionSender", () => {
  const noRoute = () => new ApiError(404, { error: "not_found", message: "no route POST /v1/hosts/h1/complete" }, "/v1/hosts/h1/complete");

  test("uses the batch route while the coordinator has it", async () => {
    const batches: HostCompletion[][] = [];
    const send = completionSender(
      {
        completeJobs: async (_hostId, completions) => (batches.push(completions), { results: completions.map((c) => accepted(c.jobId)) }),
        complete: async () => {
          throw new Error("the per-job route must not be used");
        },
      },
      () => "h1",
    );
    expect(await send([completion("a"), completion("b")])).toEqual({ results: [accepted("a"), accepted("b")] });
    expect(batches.map((batch) => batch.map((c) => c.jobId))).toEqual([["a", "b"]]);
  });

  test("an older coordinator without the batch route gets one POST /v1/jobs/:id/complete per job, from then on", async () => {
    let batchCalls = 0;
    const single: string[] = [];
    const send = completionSender(
      {
        completeJobs: async () => {
          batchCalls++;
          throw noRoute();
        },
        complete: async (jobId, body) => {
          single.push(`${jobId}@${body.hostId}#${body.attempt}`);
          if (jobId === "stale") throw new ApiError(409, { error: "stale_attempt", field: "attempt", message: "not yours" }, "/v1/jobs/stale/complete");
          return { state: "succeeded" } as Job;
        },
      },
      () => "h1",
    );
    expect(await send([completion("a"), completion("stale", 2)])).toEqual({
      results: [accepted("a"), { jobId: "stale", ok: false, status: 409, error: { error: "stale_attempt", field: "attempt", message: "not yours" } }],
    });
    expect(await send([completion("c")])).toEqual({ results: [accepted("c")] });
    expect(batchCalls).toBe(1);
    expect(single).toEqual(["a@h1#1", "stale@h1#2", "c@h1#1"]);
  });

  test("claims with the batch; a coordinator that refuses claimSlots gets the batch again without it, and is not asked again", async () => {
    const bodies: { jobs: string[]; claimSlots: number | undefined }[] = [];
    let knowsClaimSlots = true;
    const send = completionSender(
      {
        completeJobs: async (_hostId, completions, claimSlots) => {
          bodies.push({ jobs: completions.map((c) => c.jobId), claimSlots });
          if (claimSlots !== undefined && !knowsClaimSlots) {
            throw new ApiError(400, { error: "invalid_request", field: "claimSlots", message: "claimSlots: unexpected property" }, "/v1/hosts/h1/complete");
          }
          return { results: completions.map((c) => accepted(c.jobId)), ...(claimSlots !== undefined && { jobs: [] }) };
        },
        complete: async () => {
          throw new Error("the per-job route must not be used");
        },
      },
      () => "h1",
    );
    expect(await send([completion("a")], 1)).toEqual({ results: [accepted("a")], jobs: [] });
    knowsClaimSlots = false;
    expect(await send([completion("b")], 1)).toEqual({ results: [accepted("b")] });
    expect(await send([completion("c")], 1)).toEqual({ results: [accepted("c")] });
    expect(bodies).toEqual([
      { jobs: ["a"], claimSlots: 1 },
      { jobs: ["b"], claimSlots: 1 },
      { jobs: ["b"], claimSlots: undefined },
      { jobs: ["c"], claimSlots: undefined },
    ]);
  });

  test("a transient failure of the batch route is the caller's to retry, not a reason to give it up", async () => {
    let batchCalls = 0;
    const send = completionSender(
      {
        completeJobs: async (_hostId, completions) => {
          if (++batchCalls === 1) throw new Error("connection reset");
          return { results: completions.map((c) => accepted(c.jobId)) };
        },
        complete: async () => {
          throw new Error("the per-job route must not be used");
        },
      },
      () => "h1",
    );
    await expect(send([completion("a")])).rejects.toThrow("connection reset");
    expect(await send([completion("a")])).toEqual({ results: [accepted("a")] });
  });
});
