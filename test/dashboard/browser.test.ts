/**
 * The dashboard end to end in headless Chromium (Debian's `chromium`, driven by playwright-core):
 * a real coordinator with a token and a real host in this process, the page asking for the token,
 * a job enqueued from the page's form and one through the API, both showing up in the jobs list,
 * the job page following the output live, who submitted a job, a revoked host shown as revoked,
 * and API data shown as text, never as HTML.
 *
 * Set SKYCLAW_DASHBOARD_SCREENSHOTS=/tmp/some-dir to keep a picture of each view.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import type { Job } from "../../src/api";
import { hostConfig, shellJob, startTestCoordinator, startTestHost, stopAll, tempDir, waitForEnd, type TestCoordinator } from "../host/harness";

const CHROMIUM = "/usr/bin/chromium";
const TOKEN = "dashboard-test-token";
const SUBMIT_KEY = "dashboard-submit-key";
const SUBMITTER = "dashboard-bot";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// Each step waits on the page (a browser round trip, a long poll), not on a clock.
setDefaultTimeout(20_000);

let coordinator: TestCoordinator;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
const foreignRequests: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  coordinator = startTestCoordinator({ SKYCLAW_TOKEN: TOKEN, SKYCLAW_PUBLIC_API_KEYS: `${SUBMIT_KEY}:${SUBMITTER}::shell` });
  await startTestHost(hostConfig(coordinator.url, { SKYCLAW_TOKEN: TOKEN, SKYCLAW_HOST_NAME: "browser-test-host", SKYCLAW_CAPABILITIES: "shell,linux" }));
  context = await chromium.launchPersistentContext(join(tempDir("skyclaw-chromium-"), "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("request", (request) => {
    if (!request.url().startsWith(coordinator.url)) foreignRequests.push(request.url());
  });
}, 30_000);

async function keepPicture(name: string): Promise<void> {
  const dir = process.env.SKYCLAW_DASHBOARD_SCREENSHOTS;
  if (dir === undefined) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

afterAll(async () => {
  await context?.close();
  await stopAll();
});

test("/ redirects to the dashboard, which asks for the token before showing anything", async () => {
  await page.goto(`${coordinator.url}/`);
  expect(new URL(page.url()).pathname).toBe("/ui");
  await page.getByText("This coordinator needs a token").waitFor();

  await page.fill("#token", TOKEN);
  await page.click("#token-form button");
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  await page.locator(".stat", { hasText: "role" }).getByText("leader").waitFor();
  await page.getByText("A single coordinator (not clustered)").waitFor();
  expect(await page.evaluate(() => localStorage.getItem("skyclaw.token"))).toBe(TOKEN);
  await keepPicture("overview");
});

test("the hosts view lists the running host with its capabilities and slots", async () => {
  await page.goto(`${coordinator.url}/ui#/hosts`);
  const row = page.locator("tr", { hasText: "browser-test-host" });
  await row.waitFor();
  expect(await row.locator(".badge").textContent()).toBe("active");
  expect(await row.locator(".chip").allTextContents()).toContain("linux");
  await keepPicture("hosts");
});

test("a job enqueued from the form opens its page and its output arrives live", async () => {
  await page.goto(`${coordinator.url}/ui#/jobs`);
  await page.fill("#enqueue-form input[name=command]", "sh");
  await page.fill("#enqueue-form textarea[name=args]", "-c\necho hello from the dashboard; echo to stderr >&2; sleep 0.3; echo second line");
  await page.fill("#enqueue-form input[name=requires]", "linux");
  await page.click("#enqueue-form button[type=submit]");

  await page.waitForURL(/#\/jobs\/job_/);
  const jobId = decodeURIComponent(new URL(page.url()).hash.slice("#/jobs/".length));
  await page.locator("#job-output", { hasText: "hello from the dashboard" }).waitFor();
  await page.locator("#job-output", { hasText: "second line" }).waitFor();
  await page.locator("dd .badge", { hasText: "succeeded" }).waitFor();
  expect(await page.locator("#job-output .stderr").textContent()).toBe("to stderr\n");
  expect(await page.locator("#output-status").textContent()).toBe("(succeeded)");
  expect((await coordinator.client.getJob(jobId)).result?.stdoutTail).toBe("hello from the dashboard\nsecond line\n");

  await keepPicture("job");
});

test("a job enqueued through the API appears in the jobs list without a reload, and the state filter applies", async () => {
  await page.goto(`${coordinator.url}/ui#/jobs`);
  await page.locator("#jobs-list table").waitFor();
  const job = await coordinator.client.enqueue(shellJob("echo from the api", { requires: ["linux"] }));
  const row = page.locator(`tr[data-job-id="${job.id}"]`);
  await row.waitFor();
  await waitForEnd(coordinator.client, job.id);
  await row.locator(".badge", { hasText: "succeeded" }).waitFor();
  await keepPicture("jobs");

  await page.selectOption("#state-filter", "queued");
  await page.waitForURL(/state=queued/);
  await page.getByText("No queued jobs.").waitFor();
  expect(await page.locator(`tr[data-job-id="${job.id}"]`).count()).toBe(0);
});

test("a job enqueued with a submit key shows its label as submitter on its page and in the list; an admin's job shows none", async () => {
  const response = await fetch(`${coordinator.url}/v1/jobs`, {
    method: "POST",
    headers: { "x-skyclaw-token": SUBMIT_KEY, "content-type": "application/json" },
    body: JSON.stringify(shellJob("echo from a submit key")),
  });
  expect(response.status).toBe(201);
  const byKey = (await response.json()) as Job;
  const byAdmin = await coordinator.client.enqueue(shellJob("echo from the admin"));
  expect(byAdmin.submitter).toBeNull();

  await page.goto(`${coordinator.url}/ui#/jobs/${byKey.id}`);
  await page.locator("dd .badge", { hasText: "succeeded" }).waitFor();
  const labels = await page.locator("dl.fields dt").allTextContents();
  expect(labels).toContain("submitter");
  expect(await page.locator("dl.fields dd").nth(labels.indexOf("submitter")).textContent()).toBe(SUBMITTER);

  await page.goto(`${coordinator.url}/ui#/jobs`);
  await page.locator(`tr[data-job-id="${byAdmin.id}"]`).waitFor();
  const submitterColumn = (await page.locator("#jobs-list th").allTextContents()).indexOf("submitter");
  expect(submitterColumn).toBeGreaterThan(0);
  const submitterOf = (jobId: string) => page.locator(`tr[data-job-id="${jobId}"] td`).nth(submitterColumn).textContent();
  expect(await submitterOf(byKey.id)).toBe(SUBMITTER);
  expect(await submitterOf(byAdmin.id)).toBe("—");
  await keepPicture("jobs-submitter");
});

test("a revoked host shows as revoked, with when, instead of lost; the running host stays active", async () => {
  const { host } = await coordinator.client.register({ name: "revoked-test-host", capabilities: ["shell"], slots: 1, version: "test" });
  const { host: revoked } = await coordinator.client.revokeHost(host.id);
  expect(revoked.state).toBe("lost");
  expect(revoked.revokedAt).toEqual(expect.any(Number));

  await page.goto(`${coordinator.url}/ui#/hosts`);
  const row = page.locator("tr", { hasText: "revoked-test-host" });
  await row.waitFor();
  expect(await row.locator(".badge").textContent()).toBe("revoked");
  expect(await row.getByText("lost").count()).toBe(0);
  expect(await row.locator(`span[title="${new Date(revoked.revokedAt as number).toISOString()}"]`).textContent()).toMatch(/^\d+s ago$/);
  expect(await page.locator("tr", { hasText: "browser-test-host" }).locator(".badge").textContent()).toBe("active");
  await keepPicture("hosts-revoked");
});

test("API data is shown as text: markup in a job's command is not parsed", async () => {
  const markup = `<img src=x id=injected onerror="document.title=42">`;
  const job = await coordinator.client.enqueue(shellJob(`echo ${markup}`, { requires: ["never-satisfied"] }));
  await page.goto(`${coordinator.url}/ui#/jobs/${job.id}`);
  await page.locator("dd", { hasText: markup }).waitFor();
  await page.goto(`${coordinator.url}/ui#/jobs`);
  await page.locator(`tr[data-job-id="${job.id}"]`, { hasText: markup }).waitFor();
  expect(await page.locator("#injected").count()).toBe(0);
  expect(await page.title()).toBe("Skyclaw");
  await coordinator.client.cancelJob(job.id);
});

test("the API view renders /openapi.json, and nothing was loaded from another origin", async () => {
  await page.goto(`${coordinator.url}/docs`);
  await page.getByRole("heading", { name: /Skyclaw API/ }).waitFor();
  await page.locator(".op", { hasText: "/v1/jobs/{id}/output" }).first().waitFor();
  expect(await page.getByText("Enqueue a job").count()).toBeGreaterThan(0);
  await keepPicture("api");

  expect(foreignRequests).toEqual([]);
  expect(pageErrors).toEqual([]);
});
