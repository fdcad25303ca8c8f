/**
 * A host reports finished jobs in batches (`POST /v1/hosts/:id/complete`): the jobs that end
 * while a completion request is in flight go together in the next one, and each is accepted or
 * refused on its own. A proxy holds the first completion request until the others have
 * finished, so the batching the test sees does not depend on timing.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parsePrometheusText, sampleValue } from "../metrics/prometheus-text";
import { startFlakyProxy, type FlakyProxy } from "./flaky-proxy";
import { allOutput, eventually, hostConfig, shellJob, startTestCoordinator, startTestHost, stopAll, tempDir, waitForEnd, waitForOutput, type TestCoordinator, type TestHost } from "./harness";

let coordinator: TestCoordinator;
let proxy: FlakyProxy;
beforeEach(() => {
  coordinator = startTestCoordinator();
  proxy = startFlakyProxy(coordinator.url);
});
afterEach(async () => {
  proxy.releaseCompletions();
  await stopAll();
  proxy.stop();
});

/** Says "ready", waits for $DIR/go, then prints `text`. */
function jobAwaitingGo(dir: string, text: string) {
  return shellJob(`echo ready; while [ ! -e "$DIR/go" ]; do sleep 0.02; done; echo ${text}`, { env: { DIR: dir }, timeoutMs: 20_000 });
}

/** Every run of this host is over (its working directory removed), so each completion is queued or sent. */
async function allRunsOver(host: TestHost): Promise<void> {
  await eventually(() => readdirSync(join(host.config.stateDir, "jobs")).length === 0);
}

async function completeRequests(): Promise<Record<string, number | undefined>> {
  const families = parsePrometheusText(await (await fetch(`${coordinator.url}/metrics`)).text());
  const count = (route: string) => sampleValue(families, "skyclaw_http_requests_total", { method: "POST", route, status: "200" });
  return { batch: count("/v1/hosts/:id/complete"), single: count("/v1/jobs/:id/complete"), claim: count("/v1/hosts/:id/claim") };
}

describe("batched completions", () => {
  test("jobs that finish while a completion is in flight are reported together in the next request", async () => {
    const host = await startTestHost(hostConfig(proxy.url, { SKYCLAW_MAX_PARALLEL: "4" }));
    const dir = tempDir();
    const jobs = await Promise.all([1, 2, 3, 4].map((n) => coordinator.client.enqueue(jobAwaitingGo(dir, `job${n}`))));
    await Promise.all(jobs.map((job) => waitForOutput(coordinator.client, job.id, "ready")));
    proxy.holdCompletions = true;
    writeFileSync(join(dir, "go"), "");
    // The first job to finish is sent at once, alone; the proxy holds it while the other three finish.
    await eventually(() => proxy.completionBatches.length === 1);
    await allRunsOver(host);
    proxy.releaseCompletions();

    const done = await Promise.all(jobs.map((job) => waitForEnd(coordinator.client, job.id)));
    done.forEach((job, index) => {
      expect(job.state).toBe("succeeded");
      expect(job.result).toMatchObject({ exitCode: 0, signal: null, stdoutTail: `ready\njob${index + 1}\n` });
    });
    for (const [index, job] of jobs.entries()) {
      const stdout = (await allOutput(coordinator.client, job.id)).map((chunk) => chunk.data).join("");
      expect(stdout).toBe(`ready\njob${index + 1}\n`);
    }
    expect(proxy.completionBatches.map((batch) => batch.length)).toEqual([1, 3]);
    expect(proxy.completionBatches.flat().sort()).toEqual(jobs.map((job) => job.id).sort());
    expect(await completeRequests()).toMatchObject({ batch: 2, single: undefined });
    expect(host.lines.join("\n")).not.toContain("completion refused");
  });

  test("each report claims the next job for the slot it frees: a one-slot host drains a queue with a single claim request", async () => {
    const jobs = [];
    for (const n of [1, 2, 3, 4]) jobs.push(await coordinator.client.enqueue(shellJob(`echo job${n}`)));
    const host = await startTestHost(hostConfig(coordinator.url, { SKYCLAW_MAX_PARALLEL: "1" }));
    const done = await Promise.all(jobs.map((job) => waitForEnd(coordinator.client, job.id)));
    done.forEach((job, index) => expect(job).toMatchObject({ state: "succeeded", attempt: 1, result: { stdoutTail: `job${index + 1}\n` } }));
    // The first job came from the claim loop; jobs 2 to 4 with the reports of 1 to 3. The claim
    // the loop parks once the queue is empty is not answered within its 5 s wait.
    expect(await completeRequests()).toEqual({ batch: 4, single: undefined, claim: 1 });
    // One slot, a queue in FIFO order: they ran one after another.
    const finished = done.map((job) => job.finishedAt!);
    expect(finished).toEqual([...finished].sort((a, b) => a - b));
    expect(host.lines.join("\n")).not.toContain("completion refused");
  });

  test("a stale completion in a batch is refused on its own; the others in it are accepted", async () => {
    const host = await startTestHost(hostConfig(proxy.url, { SKYCLAW_MAX_PARALLEL: "3" }));
    const dir = tempDir();
    const stale = await coordinator.client.enqueue(jobAwaitingGo(dir, "stale"));
    const fresh = await coordinator.client.enqueue(jobAwaitingGo(dir, "fresh"));
    await Promise.all([stale, fresh].map((job) => waitForOutput(coordinator.client, job.id, "ready")));
    proxy.holdCompletions = true;
    const first = await coordinator.client.enqueue(shellJob("echo first"));
    await eventually(() => proxy.completionBatches.length === 1);
    writeFileSync(join(dir, "go"), "");
    await allRunsOver(host);
    // While the host's batch waits, attempt 1 of `stale` ends without it: the host's report of it is stale.
    await coordinator.client.complete(stale.id, {
      hostId: host.hostId,
      attempt: 1,
      status: "failed",
      result: { exitCode: null, signal: null, durationMs: 0, reason: "test", message: "ended by the test" },
    });
    proxy.releaseCompletions();

    expect(await waitForEnd(coordinator.client, first.id)).toMatchObject({ state: "succeeded", result: { exitCode: 0, stdoutTail: "first\n" } });
    expect(await waitForEnd(coordinator.client, fresh.id)).toMatchObject({ state: "succeeded", result: { exitCode: 0, stdoutTail: "ready\nfresh\n" } });
    const refused = await coordinator.client.getJob(stale.id);
    expect(refused).toMatchObject({ state: "failed", attempt: 1, lastError: "attempt 1: test: ended by the test", result: { reason: "test" } });
    expect(proxy.completionBatches.map((batch) => [...batch].sort())).toEqual([[first.id], [stale.id, fresh.id].sort()]);
    await eventually(() => host.lines.some((line) => line.includes("completion refused")));
    const refusals = host.lines.filter((line) => line.includes("completion refused"));
    expect(refusals).toEqual([`job ${stale.id} (attempt 1): completion refused: attempt: host "${host.hostId}" does not hold attempt 1 of job "${stale.id}" (job is failed, attempt 1)`]);
  });
});
