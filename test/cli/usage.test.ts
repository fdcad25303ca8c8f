/** The CLI's own surface: --version, --help, and refusing bad command lines with exit code 2. */
import { afterAll, setDefaultTimeout, describe, expect, test } from "bun:test";
import { VERSION } from "../../src/version";
import { killAll, runCli } from "../helpers/processes";

afterAll(killAll);
// bunfig's [test] timeout is not applied by bun 1.4.5; these tests spawn real processes.
setDefaultTimeout(20_000);

// No coordinator listens here: a usage error must be reported before any request is made.
const noCoordinator = { SKYCLAW_COORDINATOR_URL: "http://127.0.0.1:9" };

function expectOneLineError(result: { exitCode: number; stdout: string; stderr: string }, exitCode: number, message: RegExp) {
  expect(result.exitCode).toBe(exitCode);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^skyclaw: /);
  expect(lines[0]).toMatch(message);
}

describe("version and help", () => {
  test("--version prints the version and exits 0, at the top and on a subcommand", async () => {
    for (const args of [["--version"], ["jobs", "list", "--version"]]) {
      const result = await runCli(args);
      expect(result.exitCode).toBe(0);
      expect(result.stdout.trim()).toBe(VERSION);
    }
  });

  test("--help lists every command and exits 0", async () => {
    const result = await runCli(["--help"]);
    expect(result.exitCode).toBe(0);
    for (const command of ["coordinator", "host", "dev", "enqueue-shell", "enqueue-openclaw", "jobs", "hosts"]) {
      expect(result.stdout).toContain(command);
    }
  });

  test("--help on a nested command shows its own flags", async () => {
    const jobs = await runCli(["jobs", "--help"]);
    expect(jobs.exitCode).toBe(0);
    expect(jobs.stdout).toContain("skyclaw jobs");
    expect(jobs.stdout).toMatch(/list\|get\|cancel\|logs/);

    const list = await runCli(["jobs", "list", "--help"]);
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toContain("skyclaw jobs list");
    expect(list.stdout).toContain("--cursor");

    const enqueue = await runCli(["enqueue-shell", "-h"]);
    expect(enqueue.exitCode).toBe(0);
    expect(enqueue.stdout).toContain("--idempotency-key");
    expect(enqueue.stdout).toContain("--max-attempts");
  });
});

describe("bad command lines exit 2 with one line on stderr", () => {
  test("an unknown flag", async () => {
    expectOneLineError(await runCli(["jobs", "list", "--bogus"], { env: noCoordinator }), 2, /unknown option --bogus/);
  });

  test("an unknown flag before the job's command", async () => {
    expectOneLineError(await runCli(["enqueue-shell", "--priorty", "5", "echo", "hi"], { env: noCoordinator }), 2, /unknown option --priorty/);
  });

  test("a non-numeric number", async () => {
    expectOneLineError(await runCli(["enqueue-shell", "--priority", "abc", "echo", "hi"], { env: noCoordinator }), 2, /--priority expects a whole number, got "abc"/);
    expectOneLineError(await runCli(["jobs", "list", "--limit=1.5"], { env: noCoordinator }), 2, /--limit expects a whole number/);
  });

  test("a number out of range, a bad duration, a bad --env", async () => {
    expectOneLineError(await runCli(["enqueue-shell", "--max-attempts", "0", "echo"], { env: noCoordinator }), 2, /--max-attempts must be between 1 and 100/);
    expectOneLineError(await runCli(["enqueue-shell", "--timeout", "5 minutes", "echo"], { env: noCoordinator }), 2, /--timeout expects a duration/);
    expectOneLineError(await runCli(["enqueue-shell", "--env", "NOEQUALS", "echo"], { env: noCoordinator }), 2, /--env expects KEY=VALUE/);
  });

  test("a value given to a switch, a flag without its value, a --no- form of a value flag", async () => {
    expectOneLineError(await runCli(["jobs", "list", "--json=yes"], { env: noCoordinator }), 2, /--json is a switch/);
    expectOneLineError(await runCli(["jobs", "list", "--limit"], { env: noCoordinator }), 2, /--limit needs a value/);
    expectOneLineError(await runCli(["jobs", "list", "--no-limit"], { env: noCoordinator }), 2, /unknown option --no-limit/);
  });

  test("a bad enum value, a missing or extra positional", async () => {
    expectOneLineError(await runCli(["jobs", "list", "--state", "running"], { env: noCoordinator }), 2, /--state must be one of queued, leased/);
    expectOneLineError(await runCli(["jobs", "get"], { env: noCoordinator }), 2, /missing <id>/);
    expectOneLineError(await runCli(["jobs", "get", "a", "b"], { env: noCoordinator }), 2, /unexpected argument "b"/);
  });

  test("an unknown command, a missing command, a job with no command", async () => {
    expectOneLineError(await runCli(["jobs", "lst"], { env: noCoordinator }), 2, /unknown command "lst"/);
    expectOneLineError(await runCli(["frobnicate"], { env: noCoordinator }), 2, /unknown command "frobnicate"/);
    expectOneLineError(await runCli(["enqueue-shell", "--json"], { env: noCoordinator }), 2, /missing <command>/);
    expectOneLineError(await runCli(["enqueue-openclaw"], { env: noCoordinator }), 2, /openclaw arguments or --message/);
    expectOneLineError(await runCli(["enqueue-openclaw", "--message", "hi", "run"], { env: noCoordinator }), 2, /either openclaw arguments or --message/);
  });

  test("a bad SKYCLAW_* variable is a configuration error", async () => {
    expectOneLineError(await runCli(["jobs", "list"], { env: { SKYCLAW_COORDINATOR_URL: "ftp://x" } }), 2, /configuration error: SKYCLAW_COORDINATOR_URL/);
  });
});
