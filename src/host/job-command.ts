/**
 * Turns a claimed job into exactly what will be spawned (executable realpath, arguments,
 * working directory, environment), or into a refusal the job is completed with. Every check a
 * job could try to get around lives here: env, cwd, then the allowlist on the resolved file.
 */
import type { Job } from "../api";
import type { HostConfig } from "../config";
import { resolveExecutable, type Allowlist } from "./allowlist";
import { describeRefusedEnv, jobEnvironment, refusedEnvNames } from "./job-env";
import { jobCwd } from "./job-workdir";
import { openclawArgs } from "./openclaw";

export interface CommandPlan {
  executable: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** An OpenClaw agent run whose stdout is a JSON envelope to keep as the result. */
  expectsEnvelope: boolean;
}

export type RefusalReason = "not_allowed" | "bad_cwd" | "unsupported";

export interface Refusal {
  reason: RefusalReason;
  message: string;
}

export interface CommandContext {
  config: HostConfig;
  allowlist: Allowlist;
  /** Realpath of the OpenClaw CLI when its `--version` worked at start-up, else null. */
  openclawExecutable: string | null;
}

export function planCommand(job: Job, jobDir: string, context: CommandContext): CommandPlan | Refusal {
  const { spec } = job;
  const refusedEnv = refusedEnvNames(spec.env);
  if (refusedEnv.length > 0) return { reason: "not_allowed", message: describeRefusedEnv(refusedEnv) };
  const cwd = jobCwd(jobDir, spec.cwd);
  if ("error" in cwd) return { reason: "bad_cwd", message: cwd.error };
  const env = jobEnvironment(context.config, jobDir, spec.env);

  if (spec.kind === "openclaw") {
    if (context.openclawExecutable === null) {
      return {
        reason: "unsupported",
        message: `this host has no working OpenClaw CLI (SKYCLAW_OPENCLAW_COMMAND="${context.config.openclawCommand}"); enqueue openclaw jobs with --requires openclaw`,
      };
    }
    return { executable: context.openclawExecutable, args: openclawArgs(spec), cwd: cwd.path, env, expectsEnvelope: spec.message !== undefined };
  }

  const command = spec.command ?? "";
  const executable = resolveExecutable(command, context.config.jobPath, cwd.path);
  if (executable === null) {
    return { reason: "not_allowed", message: `command "${command}" does not resolve to an executable on this host; ${context.allowlist.describe()}` };
  }
  if (!context.allowlist.allows(executable)) {
    return { reason: "not_allowed", message: `command "${command}" resolves to ${executable}, which is not allowed; ${context.allowlist.describe()}` };
  }
  return { executable, args: spec.args ?? [], cwd: cwd.path, env, expectsEnvelope: false };
}
