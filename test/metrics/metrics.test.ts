/**
 * GET /metrics as a Prometheus server sees it: the exposition parses strictly, and its numbers
 * are the coordinator's state after real requests (enqueue, claim, a lease left to expire).
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { OutputPage } from "../../src/api";
import { claimNow, enqueue, registerHost, startTestCoordinator, stopTestCoordinators, type TestCoordinator } from "../coordinator/harness";
import { parsePrometheusText, sampleValue, type PromFamily } from "./prometheus-text";

afterEach(stopTestCoordinators);

const TOKEN = "metrics-test-token";
// A one-second lease that expires in the test; hosts time out much later, so the host stays active.
const ENV = { SKYCLAW_TOKEN: TOKEN, SKYCLAW_LEASE_MS: "1000", SKYCLAW_HEARTBEAT_MS: "100", SKYCLAW_HOST_TIMEOUT_MS: "60000" };

async function scrape(coordinator: TestCoordinator, token: string | null = TOKEN): Promise<{ status: number; contentType: string | null; text: string }> {
  const response = await fetch(`${coordinator.url}/metrics`, { headers: token === null ? {} : { "x-skyclaw-token": token } });
  return { status: response.status, contentType: response.headers.get("content-type"), text: await response.text() };
}

async function metrics(coordinator: TestCoordinator): Promise<Map<string, PromFamily>> {
  const { status, contentType, text } = await scrape(coordinator);
  expect(status).toBe(200);
  expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheusText(text);
}

describe("GET /metrics", () => {
  test("matches the state after enqueueing 3 jobs, claiming 1 and letting its lease expire", async () => {
    const coordinator = startTestCoordinator(ENV);
    const host = await registerHost(coordinator, { capabilities: ["shell"] });
    const first = await enqueue(coordinator, { requires: ["shell"], maxAttempts: 2, backoffMs: 60_000 });
    await enqueue(coordinator, { requires: ["shell", "gpu"] });
    await enqueue(coordinator, { requires: ["gpu", "shell"] });
    const claimed = await claimNow(coordinator, host.id);
    expect(claimed.map((job) => job.id)).toEqual([first.id]);

    const leased = await metrics(coordinator);
    expect(sampleValue(leased, "skyclaw_jobs", { state: "leased" })).toBe(1);
    expect(sampleValue(leased, "skyclaw_jobs", { state: "queued" })).toBe(2);
    expect(sampleValue(leased, "skyclaw_queue_depth", { requires: "gpu,shell" })).toBe(2);
    expect(sampleValue(leased, "skyclaw_queue_depth", { requires: "shell" })).toBe(0);
    expect(sampleValue(leased, "skyclaw_dispatch_latency_seconds_count")).toBe(1);
    expect(sampleValue(leased, "skyclaw_leases_expired_total", { outcome: "requeued" })).toBe(0);

    // The output long poll returns when the job changes: here, when its lease expires.
    const change = await coordinator.call<OutputPage>("GET", `/v1/jobs/${first.id}/output?waitMs=10000`);
    expect(change.body.job).toMatchObject({ state: "queued", attempt: 1 });

    const after = await metrics(coordinator);
    expect(sampleValue(after, "skyclaw_jobs", { state: "queued" })).toBe(3);
    expect(sampleValue(after, "skyclaw_jobs", { state: "leased" })).toBe(0);
    for (const state of ["succeeded", "failed", "cancelled", "dead"]) expect(sampleValue(after, "skyclaw_jobs", { state })).toBe(0);
    expect(sampleValue(after, "skyclaw_queue_depth", { requires: "shell" })).toBe(1);
    expect(sampleValue(after, "skyclaw_queue_depth", { requires: "gpu,shell" })).toBe(2);
    expect(sampleValue(after, "skyclaw_leases_expired_total", { outcome: "requeued" })).toBe(1);
    expect(sampleValue(after, "skyclaw_leases_expired_total", { outcome: "dead" })).toBe(0);
    expect(sampleValue(after, "skyclaw_leases_expired_total", { outcome: "cancelled" })).toBe(0);
    expect(sampleValue(after, "skyclaw_hosts", { state: "active" })).toBe(1);
    expect(sampleValue(after, "skyclaw_hosts", { state: "lost" })).toBe(0);
    expect(sampleValue(after, "skyclaw_dispatch_latency_seconds_count")).toBe(1);
    expect(sampleValue(after, "skyclaw_dispatch_latency_seconds_bucket", { le: "+Inf" })).toBe(1);
    expect(sampleValue(after, "skyclaw_raft_is_leader")).toBe(1);
    const [applied] = coordinator.rows<{ value: number }>("SELECT value FROM state_meta WHERE key = 'last_applied'");
    expect(sampleValue(after, "skyclaw_raft_applied_index")).toBe(applied!.value);

    const families = [...after.values()];
    expect(families.filter((family) => family.type === "counter").map((family) => family.name).sort()).toEqual([
      "skyclaw_http_requests_total",
      "skyclaw_leases_expired_total",
    ]);
    expect(after.get("skyclaw_dispatch_latency_seconds")?.type).toBe("histogram");
    for (const family of families) expect(family.help).toBeString();
  });

  test("a requirement set whose queue empties reports depth 0 instead of vanishing", async () => {
    const coordinator = startTestCoordinator(ENV);
    const cancelled = await enqueue(coordinator, { requires: ["gpu"] });
    await enqueue(coordinator, { requires: ["gpu"] });
    const host = await registerHost(coordinator, { capabilities: ["gpu", "shell"] });
    expect(sampleValue(await metrics(coordinator), "skyclaw_queue_depth", { requires: "gpu,shell" })).toBe(2);

    expect((await coordinator.call("POST", `/v1/jobs/${cancelled.id}/cancel`, { body: {} })).status).toBe(200);
    expect(await claimNow(coordinator, host.id)).toHaveLength(1);
    const emptied = await metrics(coordinator);
    const depth = emptied.get("skyclaw_queue_depth")!.samples;
    expect(depth.map((sample) => [sample.labels.requires, sample.value])).toEqual([["gpu,shell", 0]]);
  });

  test("counts HTTP requests by route pattern and final status, refusals included", async () => {
    const coordinator = startTestCoordinator(ENV);
    const job = await enqueue(coordinator);
    expect((await coordinator.call("GET", `/v1/jobs/${job.id}`)).status).toBe(200);
    expect((await coordinator.call("GET", "/v1/jobs/no-such-job")).status).toBe(404);
    expect((await coordinator.call("GET", "/v1/jobs/also-missing")).status).toBe(404);
    expect((await coordinator.call("GET", `/v1/jobs/${job.id}`, { headers: { "x-skyclaw-token": "wrong" } })).status).toBe(401);
    expect((await coordinator.call("POST", "/v1/jobs", { body: { kind: "nope" } })).status).toBe(400);
    expect((await coordinator.call("GET", "/no/such/route")).status).toBe(404);
    expect((await fetch(`${coordinator.url}/ui/app.js`)).status).toBe(200);

    const families = await metrics(coordinator);
    const requests = (labels: Record<string, string>) => sampleValue(families, "skyclaw_http_requests_total", labels);
    expect(requests({ method: "POST", route: "/v1/jobs", status: "201" })).toBe(1);
    expect(requests({ method: "POST", route: "/v1/jobs", status: "400" })).toBe(1);
    expect(requests({ method: "GET", route: "/v1/jobs/:id", status: "200" })).toBe(1);
    expect(requests({ method: "GET", route: "/v1/jobs/:id", status: "404" })).toBe(2);
    expect(requests({ method: "GET", route: "/v1/jobs/:id", status: "401" })).toBe(1);
    expect(requests({ method: "GET", route: "unmatched", status: "404" })).toBe(1);
    expect(requests({ method: "GET", route: "/ui/app.js", status: "200" })).toBe(1);
    const routes = families.get("skyclaw_http_requests_total")!.samples.map((sample) => sample.labels.route);
    expect(routes.some((route) => route?.includes(job.id))).toBe(false);

    // The scrape just made is counted by the time of the next one.
    const again = await metrics(coordinator);
    expect(sampleValue(again, "skyclaw_http_requests_total", { method: "GET", route: "/metrics", status: "200" })).toBe(1);
  });

  test("needs the token unless SKYCLAW_METRICS_PUBLIC=1", async () => {
    const guarded = startTestCoordinator(ENV);
    const refused = await scrape(guarded, null);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.text)).toMatchObject({ error: "unauthorized" });

    const open = startTestCoordinator({ ...ENV, SKYCLAW_METRICS_PUBLIC: "1" });
    const scraped = await scrape(open, null);
    expect(scraped.status).toBe(200);
    expect(sampleValue(parsePrometheusText(scraped.text), "skyclaw_raft_is_leader")).toBe(1);
    // Only /metrics is opened: the API still needs the token.
    expect((await fetch(`${open.url}/v1/jobs`)).status).toBe(401);
  });
});
