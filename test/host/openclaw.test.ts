/**
 * OpenClaw jobs against a stub `openclaw` CLI (a shell script): the capability is advertised only
 * when `--version` works, args jobs run the CLI as given, message jobs run `agent exec … --json`
 * and keep the envelope as the result. The real CLI's end-to-end test lives elsewhere.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hostConfig, startTestCoordinator, startTestHost, stopAll, tempDir, waitForEnd, type TestCoordinator, type TestHost } from "./harness";

const STUB = `#!/bin/sh
if [ "$1" = "--version" ]; then echo "openclaw 0.0.0-stub"; exit 0; fi
if [ "$1" = "agent" ] && [ "$2" = "exec" ]; then
  shift 2
  message="$1"; shift
  echo "warming up" >&2
  case "$message" in
    *fail*) echo '{"ok":false,"status":"error","error":{"message":"the model refused"}}' ;;
    *garbage*) echo 'this is not json' ;;
    *) echo "log line before the envelope"; printf '{"ok":true,"status":"completed","final":"done: %s","flags":"%s","usage":{"inputTokens":3}}\\n' "$message" "$*" ;;
  esac
  exit 0
fi
echo "openclaw args: $*"
`;

let coordinator: TestCoordinator;
let host: TestHost;
beforeAll(async () => {
  coordinator = startTestCoordinator();
  const bin = tempDir("skyclaw-openclaw-");
  writeFileSync(join(bin, "openclaw"), STUB);
  chmodSync(join(bin, "openclaw"), 0o755);
  // The allowlist is empty: openclaw jobs run the host's own OpenClaw command regardless.
  host = await startTestHost(
    hostConfig(coordinator.url, { SKYCLAW_CAPABILITIES: "shell,openclaw", SKYCLAW_OPENCLAW_COMMAND: join(bin, "openclaw"), SKYCLAW_ALLOWED_COMMANDS: "" }),
  );
});
afterAll(stopAll);

describe("openclaw jobs", () => {
  test("a host whose OpenClaw CLI answers --version advertises the capability", async () => {
    const registered = (await coordinator.client.listHosts()).hosts.find((entry) => entry.id === host.hostId);
    expect(registered?.capabilities).toEqual(["openclaw", "shell"]);
    expect(host.lines.join("\n")).toContain("openclaw 0.0.0-stub");
  });

  test("args run the CLI with those args", async () => {
    const job = await coordinator.client.enqueue({ kind: "openclaw", args: ["status", "--deep"], requires: ["openclaw"], maxAttempts: 1 });
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("succeeded");
    expect(done.result?.stdoutTail).toBe("openclaw args: status --deep\n");
    expect(done.result?.openclaw).toBeUndefined();
  });

  test("a message runs `agent exec <message> --json` with the options and keeps the envelope", async () => {
    const job = await coordinator.client.enqueue({
      kind: "openclaw",
      message: "Summarize the logs",
      model: "ollama/tiny",
      thinking: "low",
      agent: "main",
      requires: ["openclaw"],
      maxAttempts: 1,
    });
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("succeeded");
    expect(done.result?.openclaw).toEqual({
      ok: true,
      status: "completed",
      final: "done: Summarize the logs",
      flags: "--json --model ollama/tiny --thinking low --agent main",
      usage: { inputTokens: 3 },
    });
    expect(done.result?.stderrTail).toBe("warming up\n");
  });

  test("an envelope with ok: false fails the job and says why", async () => {
    const job = await coordinator.client.enqueue({ kind: "openclaw", message: "please fail", requires: ["openclaw"], maxAttempts: 1 });
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("failed");
    expect(done.result).toMatchObject({ exitCode: 0, reason: "openclaw_failed", message: "the model refused" });
    expect(done.result?.openclaw).toMatchObject({ ok: false, status: "error" });
  });

  test("no readable envelope fails the job", async () => {
    const job = await coordinator.client.enqueue({ kind: "openclaw", message: "print garbage", requires: ["openclaw"], maxAttempts: 1 });
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("failed");
    expect(done.result?.reason).toBe("bad_envelope");
  });
});

describe("a host without a working OpenClaw CLI", () => {
  test("does not advertise openclaw, so openclaw jobs are not sent to it", async () => {
    const other = startTestCoordinator();
    const broken = await startTestHost(
      hostConfig(other.url, { SKYCLAW_CAPABILITIES: "shell,openclaw", SKYCLAW_OPENCLAW_COMMAND: "/nonexistent/openclaw" }),
    );
    const registered = (await other.client.listHosts()).hosts.find((entry) => entry.id === broken.hostId);
    expect(registered?.capabilities).toEqual(["shell"]);
    expect(broken.lines.join("\n")).toContain('not advertising "openclaw"');
    // FIFO on one slot: had the openclaw job been claimable, it would have gone before the shell job.
    const openclawJob = await other.client.enqueue({ kind: "openclaw", args: ["status"], maxAttempts: 1 });
    const shellJobDone = await waitForEnd(other.client, (await other.client.enqueue({ kind: "shell", command: "sh", args: ["-c", "true"] })).id);
    expect(shellJobDone.state).toBe("succeeded");
    expect((await other.client.getJob(openclawJob.id)).state).toBe("queued");
  });
});
