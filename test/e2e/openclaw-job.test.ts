/**
 * An OpenClaw job end to end, with the real `openclaw` CLI: `skyclaw enqueue-openclaw --message
 * … --wait` (a real CLI process) → coordinator → host daemon, which runs `openclaw agent exec
 * <message> --json --model …` against the stub Ollama server and stores the JSON envelope as
 * the job's result.
 */
import { afterAll, expect, test } from "bun:test";
import { killAll, runCli } from "../helpers/processes";
import { hostConfig, startTestCoordinator, startTestHost, stopAll } from "../host/harness";
import { openclawForTests } from "./openclaw-env";

/** One turn takes ~10–30 s on a 2-core machine, most of it OpenClaw's own start-up. */
const TURN_TIMEOUT_MS = 120_000;

const openclaw = await openclawForTests();
const available = !("unavailable" in openclaw);
if ("unavailable" in openclaw) console.warn(`SKIPPING the real-OpenClaw job test: ${openclaw.unavailable}`);

afterAll(async () => {
  await killAll();
  await stopAll();
  if (!("unavailable" in openclaw)) await openclaw.stub.stop();
});

test.skipIf(!available)(
  "`enqueue-openclaw --message … --wait` runs the real OpenClaw agent on a host, prints its final answer and stores the envelope",
  async () => {
    if ("unavailable" in openclaw) throw new Error(openclaw.unavailable);
    const coordinator = startTestCoordinator();
    const host = await startTestHost(
      hostConfig(coordinator.url, { SKYCLAW_CAPABILITIES: "shell,openclaw", SKYCLAW_OPENCLAW_COMMAND: openclaw.command }),
    );
    expect(host.lines.join("\n")).toContain(`OpenClaw CLI ${openclaw.command}`);

    const jobId = "e2e-openclaw-say-hi";
    // The host gives a job only a small base environment: what OpenClaw needs travels in `env`.
    const envFlags = Object.entries(openclaw.env).flatMap(([name, value]) => ["--env", `${name}=${value}`]);
    const cli = await runCli(
      ["enqueue-openclaw", "--message", "say hi", "--model", openclaw.model, "--requires", "openclaw", "--max-attempts", "1", "--id", jobId, ...envFlags, "--wait"],
      { env: { SKYCLAW_COORDINATOR_URL: coordinator.url }, timeoutMs: TURN_TIMEOUT_MS },
    );
    expect({ exitCode: cli.exitCode, stdout: cli.stdout }).toEqual({ exitCode: 0, stdout: `${openclaw.reply}\n` });

    const job = await coordinator.client.getJob(jobId);
    expect(job.state).toBe("succeeded");
    expect(job.result?.exitCode).toBe(0);
    expect(job.result?.openclaw).toMatchObject({ ok: true, status: "ok", provider: "ollama" });
    expect(String(job.result?.openclaw?.final)).toContain(openclaw.reply);
    expect(openclaw.stub.requests.map((request) => `${request.method} ${request.path}`)).toContain("POST /api/chat");
  },
  TURN_TIMEOUT_MS + 30_000,
);
