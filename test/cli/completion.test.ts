/**
 * `skyclaw completion bash|zsh|fish`: the scripts come from the command tree. The bash one is
 * loaded into a real bash and asked for completions the way bash's `complete -F` asks.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { JOB_STATES } from "../../src/api";
import { killAll, runCli, tempDir } from "../helpers/processes";

afterAll(killAll);
setDefaultTimeout(20_000);

let bashScript: string;
let scriptPath: string;

beforeAll(async () => {
  const result = await runCli(["completion", "bash"]);
  expect(result.exitCode).toBe(0);
  expect(result.stderr).toBe("");
  bashScript = result.stdout;
  scriptPath = join(tempDir(), "skyclaw.bash");
  writeFileSync(scriptPath, bashScript);
});

/** What the completion function offers for the words typed so far (the last one being completed). */
async function complete(...words: string[]): Promise<string[]> {
  const program = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _skyclaw_completion; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const child = Bun.spawn(["bash", "-c", program, "bash", scriptPath, ...words], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: "" });
  return stdout.split("\n").filter((line) => line !== "");
}

describe("bash", () => {
  test("the script parses (bash -n), defines the completion function and registers it for skyclaw", async () => {
    const check = Bun.spawn(["bash", "-n", scriptPath], { stderr: "pipe" });
    expect(await check.exited).toBe(0);
    const probe = Bun.spawn(["bash", "-c", `source "$1" && declare -F _skyclaw_completion && complete -p skyclaw`, "bash", scriptPath], { stdout: "pipe" });
    const output = await new Response(probe.stdout).text();
    expect(await probe.exited).toBe(0);
    expect(output).toContain("_skyclaw_completion\n");
    expect(output).toContain("complete -o default -F _skyclaw_completion skyclaw");
  });

  test("completes top-level commands, nested subcommands and flags", async () => {
    expect(await complete("skyclaw", "")).toEqual(
      expect.arrayContaining(["coordinator", "host", "dev", "enqueue-shell", "enqueue-openclaw", "jobs", "hosts", "completion"]),
    );
    expect(await complete("skyclaw", "en")).toEqual(["enqueue-shell", "enqueue-openclaw"]);
    expect(await complete("skyclaw", "jobs", "")).toEqual(["list", "get", "cancel", "logs"]);
    expect(await complete("skyclaw", "jobs", "list", "--")).toEqual(expect.arrayContaining(["--state", "--limit", "--cursor", "--json", "--help"]));
    expect(await complete("skyclaw", "jobs", "logs", "-")).toContain("-f");
  });

  test("offers an enum flag's values after it, and skips a flag's value when finding the command", async () => {
    expect(await complete("skyclaw", "jobs", "list", "--state", "")).toEqual([...JOB_STATES]);
    expect(await complete("skyclaw", "jobs", "list", "--state", "f")).toEqual(["failed"]);
    // "--limit 5" is a flag and its value, not a subcommand: the command is still `jobs list`.
    expect(await complete("skyclaw", "jobs", "list", "--limit", "5", "--st")).toEqual(["--state"]);
  });
});

describe("zsh and fish", () => {
  test("the zsh script is a compdef function covering nested commands and enum values", async () => {
    const { exitCode, stdout } = await runCli(["completion", "zsh"]);
    expect(exitCode).toBe(0);
    expect(stdout.startsWith("#compdef skyclaw\n")).toBe(true);
    expect(stdout).toContain(`("skyclaw jobs list --state") compadd -- ${JOB_STATES.join(" ")}; return ;;`);
    expect(stdout).toContain(`'drain:Ask a host to stop claiming jobs, finish the ones it runs, and exit'`);
    expect(stdout).toContain("compdef _skyclaw skyclaw");
  });

  test("the fish script completes each command path with its own subcommands and flags", async () => {
    const { exitCode, stdout } = await runCli(["completion", "fish"]);
    expect(exitCode).toBe(0);
    expect(stdout).toContain(`complete -c skyclaw -f -n "__skyclaw_at 'skyclaw jobs'" -a list -d 'List jobs, newest first'`);
    expect(stdout).toContain(`complete -c skyclaw -n "__skyclaw_at 'skyclaw jobs list'" -l state -x -a '${JOB_STATES.join(" ")}'`);
  });
});

test("an unknown shell is a usage error: exit 2 and one line naming the choices", async () => {
  const result = await runCli(["completion", "powershell"]);
  expect(result.exitCode).toBe(2);
  expect(result.stdout).toBe("");
  expect(result.stderr).toBe(`skyclaw: unknown shell "powershell": use bash, zsh or fish\n`);
});
