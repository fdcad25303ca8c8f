/** Planning a job's command: what is spawned, and the refusals that need no coordinator to show. */
import { describe, expect, test } from "bun:test";
import { realpathSync } from "node:fs";
import type { Job } from "../../src/api";
import { loadHostConfig } from "../../src/config";
import { Allowlist } from "../../src/host/allowlist";
import { planCommand, type CommandContext } from "../../src/host/job-command";

const config = loadHostConfig({ PATH: process.env.PATH ?? "/usr/bin:/bin", SKYCLAW_ALLOWED_COMMANDS: "sh" });
const context: CommandContext = { config, allowlist: Allowlist.fromConfig(["sh", "no-such-command-here"], config.jobPath), openclawExecutable: null };
const JOB_DIR = "/tmp/skyclaw-jobs/job_1-1";

function job(spec: Job["spec"]): Job {
  return { id: "job_1", kind: spec.kind, spec, attempt: 1 } as Job;
}

describe("planCommand", () => {
  test("a shell job runs the realpath of its command with its args, in its directory", () => {
    expect(planCommand(job({ kind: "shell", command: "sh", args: ["-c", "true"] }), JOB_DIR, context)).toEqual({
      executable: realpathSync("/bin/sh"),
      args: ["-c", "true"],
      cwd: JOB_DIR,
      env: { PATH: config.jobPath, HOME: JOB_DIR, LANG: config.jobLang, TERM: "dumb" },
      expectsEnvelope: false,
    });
  });

  test("an allowlist entry that names nothing is reported, not matched", () => {
    expect(context.allowlist.unresolved).toEqual(["no-such-command-here"]);
    expect(planCommand(job({ kind: "shell", command: "no-such-command-here" }), JOB_DIR, context)).toMatchObject({ reason: "not_allowed" });
  });

  test("an openclaw job on a host without a working OpenClaw CLI is refused as unsupported", () => {
    expect(planCommand(job({ kind: "openclaw", args: ["status"] }), JOB_DIR, context)).toMatchObject({
      reason: "unsupported",
      message: expect.stringContaining("--requires openclaw"),
    });
  });

  test("an openclaw job runs the host's CLI, never a command of the job's", () => {
    const withOpenclaw = { ...context, openclawExecutable: "/opt/openclaw/bin/openclaw" };
    expect(planCommand(job({ kind: "openclaw", message: "hi", model: "m" }), JOB_DIR, withOpenclaw)).toMatchObject({
      executable: "/opt/openclaw/bin/openclaw",
      args: ["agent", "exec", "hi", "--json", "--model", "m"],
      expectsEnvelope: true,
    });
  });

  test("env names that steer loading are refused together, by name", () => {
    const plan = planCommand(job({ kind: "shell", command: "sh", env: { OK: "1", PATH: "/x", LD_AUDIT: "/y", PYTHONPATH: "/z" } }), JOB_DIR, context);
    expect(plan).toMatchObject({ reason: "not_allowed", message: expect.stringContaining("PATH, LD_AUDIT, PYTHONPATH") });
  });
});
