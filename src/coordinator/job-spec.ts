/**
 * Checks of an enqueue request that a schema cannot express (which fields go with which kind),
 * and the defaults a job gets for what it leaves out.
 */
import type { EnqueueBody, JobSpec } from "../api";
import type { EnqueueCommand } from "../state/commands";
import { HttpError } from "./http-errors";

const OPENCLAW_AGENT_FIELDS = ["model", "thinking", "agent"] as const;

export const JOB_DEFAULTS = { priority: 0, maxAttempts: 3, backoffMs: 1_000 } as const;

export function enqueueCommand(body: EnqueueBody, jobId: string): Omit<EnqueueCommand, "at" | "idempotency"> {
  // Without an id in the request the coordinator picks one, and a signature cannot cover it.
  if (body.signature !== undefined && body.id === undefined) throw HttpError.badRequest("id", "is required for a signed job: the id is part of what is signed");
  const spec = jobSpec(body);
  return {
    type: "enqueue",
    jobId,
    spec,
    requires: body.requires ?? [],
    priority: body.priority ?? JOB_DEFAULTS.priority,
    timeoutMs: body.timeoutMs ?? null,
    maxAttempts: body.maxAttempts ?? JOB_DEFAULTS.maxAttempts,
    retryOnFailure: body.retryOnFailure ?? false,
    backoffMs: body.backoffMs ?? JOB_DEFAULTS.backoffMs,
    ...(body.signature !== undefined && { signature: body.signature }),
  };
}

function jobSpec(body: EnqueueBody): JobSpec {
  const { kind, command, args, env, cwd, keepWorkdir, message, model, thinking, agent } = body;
  if (kind === "shell") {
    if (command === undefined) throw HttpError.badRequest("command", "is required for a shell job");
    if (message !== undefined) throw HttpError.badRequest("message", "only applies to openclaw jobs");
    for (const field of OPENCLAW_AGENT_FIELDS) {
      if (body[field] !== undefined) throw HttpError.badRequest(field, "only applies to openclaw jobs");
    }
  } else {
    if (command !== undefined) {
      throw HttpError.badRequest("command", "is not allowed for openclaw jobs: the host runs its own SKYCLAW_OPENCLAW_COMMAND");
    }
    if (message === undefined) {
      if ((args ?? []).length === 0) throw HttpError.badRequest("args", "an openclaw job needs args or a message");
      for (const field of OPENCLAW_AGENT_FIELDS) {
        if (body[field] !== undefined) throw HttpError.badRequest(field, "only applies together with message");
      }
    } else if ((args ?? []).length > 0) {
      throw HttpError.badRequest("args", "give either args or a message, not both");
    }
  }
  const spec: JobSpec = { kind };
  if (command !== undefined) spec.command = command;
  if (args !== undefined && args.length > 0) spec.args = args;
  if (env !== undefined && Object.keys(env).length > 0) spec.env = env;
  if (cwd !== undefined) spec.cwd = cwd;
  if (keepWorkdir === true) spec.keepWorkdir = true;
  if (message !== undefined) spec.message = message;
  if (model !== undefined) spec.model = model;
  if (thinking !== undefined) spec.thinking = thinking;
  if (agent !== undefined) spec.agent = agent;
  return spec;
}
