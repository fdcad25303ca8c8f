/** `skyclaw enqueue-*` against a real coordinator process: what lands in the queue, exactly. */
import { afterAll, setDefaultTimeout, beforeAll, describe, expect, test } from "bun:test";
import type { Job } from "../../src/api";
import { killAll, runCli, startCoordinatorProcess, type CoordinatorProcess } from "../helpers/processes";
import { api } from "./simulated-host";

let coordinator: CoordinatorProcess;
let env: Record<string, string>;

beforeAll(async () => {
  coordinator = await startCoordinatorProcess();
  env = { SKYCLAW_COORDINATOR_URL: coordinator.url };
});
afterAll(killAll);
// bunfig's [test] timeout is not applied by bun 1.4.5; these tests spawn real processes.
setDefaultTimeout(20_000);

async function storedJob(id: string): Promise<Job> {
  const { status, body } = await api<Job>(coordinator.url, "GET", `/v1/jobs/${id}`);
  expect(status).toBe(200);
  return body;
}

/** A port on which nothing listens: bound once, then released. */
function deadUrl(): string {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  const url = `http://127.0.0.1:${server.port}`;
  server.stop(true);
  return url;
}

describe("enqueue-shell", () => {
  test("prints the job id on one line; the job holds the exact argv (bash -lc \"echo hi\" untouched)", async () => {
    const result = await runCli(["enqueue-shell", "bash", "-lc", "echo hi"], { env });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^\S+\n$/);
    const job = await storedJob(result.stdout.trim());
    expect(job.state).toBe("queued");
    expect(job.spec).toEqual({ kind: "shell", command: "bash", args: ["-lc", "echo hi"] });
  });

  test("flags go before the command; after it (or after --) everything is the job's, even --help", async () => {
    const result = await runCli(
      ["enqueue-shell", "--priority", "-5", "--timeout", "2m", "--max-attempts", "4", "--retry-on-failure", "--env", "A=1", "--env", "B=x=y",
        "--cwd", "/tmp", "--keep-workdir", "--requires", "shell,gpu", "--", "--weird", "--help", "--priority", "9"],
      { env },
    );
    expect(result.exitCode).toBe(0);
    const job = await storedJob(result.stdout.trim());
    expect(job.spec).toEqual({
      kind: "shell",
      command: "--weird",
      args: ["--help", "--priority", "9"],
      env: { A: "1", B: "x=y" },
      cwd: "/tmp",
      keepWorkdir: true,
    });
    expect(job.priority).toBe(-5);
    expect(job.timeoutMs).toBe(120_000);
    expect(job.maxAttempts).toBe(4);
    expect(job.retryOnFailure).toBe(true);
    expect(job.requires).toEqual(["gpu", "shell"]);

    const helpAfterCommand = await runCli(["enqueue-shell", "echo", "--help"], { env });
    expect(helpAfterCommand.exitCode).toBe(0);
    expect((await storedJob(helpAfterCommand.stdout.trim())).spec.args).toEqual(["--help"]);
  });

  test("--json prints the job as JSON", async () => {
    const result = await runCli(["enqueue-shell", "--json", "--id", "json-job-1", "echo", "a b"], { env });
    expect(result.exitCode).toBe(0);
    const printed = JSON.parse(result.stdout) as Job;
    expect(printed.id).toBe("json-job-1");
    expect(printed.state).toBe("queued");
    expect(printed.spec).toEqual({ kind: "shell", command: "echo", args: ["a b"] });
    expect(await storedJob("json-job-1")).toMatchObject({ id: "json-job-1", spec: printed.spec });
  });

  test("the same --idempotency-key and job returns the same job id; a different job with that key is refused", async () => {
    const key = `key-${crypto.randomUUID()}`;
    const first = await runCli(["enqueue-shell", "--idempotency-key", key, "echo", "once"], { env });
    const second = await runCli(["enqueue-shell", "--idempotency-key", key, "echo", "once"], { env });
    expect(first.exitCode).toBe(0);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const list = await api<{ jobs: Job[] }>(coordinator.url, "GET", "/v1/jobs?limit=500");
    expect(list.body.jobs.filter((job) => job.spec.args?.[0] === "once")).toHaveLength(1);

    const conflict = await runCli(["enqueue-shell", "--idempotency-key", key, "echo", "twice"], { env });
    expect(conflict.exitCode).toBe(1);
    expect(conflict.stderr).toMatch(/^skyclaw: .*already used for a different request.*\(HTTP 409/);
  });

  test("fails over: a dead coordinator first in SKYCLAW_COORDINATOR_URLS, the live one next", async () => {
    const result = await runCli(["enqueue-shell", "echo", "failover"], {
      env: { SKYCLAW_COORDINATOR_URLS: `${deadUrl()},${coordinator.url}` },
    });
    expect(result.exitCode).toBe(0);
    expect((await storedJob(result.stdout.trim())).spec).toEqual({ kind: "shell", command: "echo", args: ["failover"] });
  });

  test("a request the coordinator refuses exits 1 with its message", async () => {
    const result = await runCli(["enqueue-shell", "--id", "bad id!", "echo"], { env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^skyclaw: .*id.*\(HTTP 400/);
  });
});

describe("enqueue-openclaw", () => {
  test("passes its args to the host's openclaw command", async () => {
    const result = await runCli(["enqueue-openclaw", "run", "--fast"], { env });
    expect(result.exitCode).toBe(0);
    expect((await storedJob(result.stdout.trim())).spec).toEqual({ kind: "openclaw", args: ["run", "--fast"] });
  });

  test("--message with --model, --thinking and --agent makes an agent job", async () => {
    const result = await runCli(
      ["enqueue-openclaw", "--message", "Summarize the logs", "--model", "ollama/qwen3", "--thinking", "low", "--agent", "main"],
      { env },
    );
    expect(result.exitCode).toBe(0);
    const job = await storedJob(result.stdout.trim());
    expect(job.spec).toEqual({ kind: "openclaw", message: "Summarize the logs", model: "ollama/qwen3", thinking: "low", agent: "main" });
    expect(job.requires).toContain("openclaw");
  });
});
