/**
 * What `enqueue-shell` and `enqueue-openclaw` share: the job flags, turning them into an
 * enqueue request, submitting it with an idempotency key, and `--wait`.
 */
import type { ArgsDef, ParsedArgs } from "citty";
import type { EnqueueBody, Job } from "../../api";
import { newIdempotencyKey } from "../../client/http";
import type { SkyclawClient } from "../../client/skyclaw-client";
import { loadClientConfig } from "../../config";
import { cliClient } from "../cli-client";
import { durationMsFlag, envFlag, integerFlag, listFlag } from "../flag-values";
import { followOutput } from "../follow-output";
import { json } from "../format";
import { writeErr, writeOut } from "../output";
import type { CliData } from "../runner";
import { signRequest } from "../sign-job";
import { repeatable } from "../strict-args";
import { EXIT_CANCELLED, waitExitCode } from "../wait-exit-code";

export const enqueueFlags = {
  requires: { type: "string", valueHint: "cap,…", description: "Capabilities a host must have, comma-separated" },
  priority: { type: "string", valueHint: "n", description: "Higher runs first, -1000..1000 (default 0)" },
  timeout: { type: "string", valueHint: "duration", description: "Stop the job after this long: milliseconds, or with a unit (30s, 5m, 2h)" },
  "max-attempts": { type: "string", valueHint: "n", description: "Attempts before the job is given up, 1..100 (default 3)" },
  "retry-on-failure": { type: "boolean", description: "Also retry when the job exits non-zero (default: only when its host is lost)" },
  env: repeatable({ type: "string", valueHint: "KEY=VALUE", description: "Environment variable for the job (repeatable)" }),
  cwd: { type: "string", valueHint: "dir", description: "Working directory on the host" },
  "keep-workdir": { type: "boolean", description: "Leave the job's working directory on the host after the run (for debugging)" },
  id: { type: "string", valueHint: "id", description: "Job id to use instead of a generated one" },
  "sign-key": {
    type: "string",
    valueHint: "path",
    description: "Sign the job with this Ed25519 private key (default: SKYCLAW_SIGNING_KEY; create one with skyclaw keys generate)",
  },
  "idempotency-key": {
    type: "string",
    valueHint: "key",
    description: "Submitting again with the same key and job returns the first job (generated when absent)",
  },
  json: { type: "boolean", description: "Print the job as JSON (with --wait: the finished job, without its output)" },
  wait: {
    type: "boolean",
    description:
      "Stream the job's output and exit with its exit code (124 timeout, 130 cancelled, 125 no exit code: dead/refused/lost); Ctrl-C cancels the job",
  },
} as const satisfies ArgsDef;

type EnqueueArgs = ParsedArgs<typeof enqueueFlags>;

/** The request fields every kind of job shares. */
export function commonEnqueueFields(args: EnqueueArgs, data: CliData): Omit<EnqueueBody, "kind"> {
  return {
    requires: listFlag(args.requires),
    priority: integerFlag(args.priority, "--priority", -1_000, 1_000),
    timeoutMs: durationMsFlag(args.timeout, "--timeout", 100, 7 * 86_400_000),
    maxAttempts: integerFlag(args["max-attempts"], "--max-attempts", 1, 100),
    retryOnFailure: args["retry-on-failure"] === true ? true : undefined,
    env: envFlag(data.values.get("env") ?? []),
    cwd: args.cwd,
    keepWorkdir: args["keep-workdir"] === true ? true : undefined,
    id: args.id,
  };
}

/** Submits the job; prints its id (or JSON), or with --wait follows it. Returns the exit code. */
export async function submitJob(body: EnqueueBody, args: EnqueueArgs): Promise<number> {
  const signingKeyPath = args["sign-key"] ?? loadClientConfig().signingKeyPath;
  const request = signingKeyPath === undefined ? body : signRequest(body, signingKeyPath);
  const client = cliClient();
  // One key for this logical request: the HTTP client reuses it on every failover retry.
  const job = await client.enqueue(request, args["idempotency-key"] ?? newIdempotencyKey());
  if (!args.wait) {
    await writeOut(args.json ? `${json(job)}\n` : `${job.id}\n`);
    return 0;
  }
  return waitForJob(client, job, args.json === true);
}

async function waitForJob(client: SkyclawClient, job: Job, asJson: boolean): Promise<number> {
  const isAgentJob = job.spec.kind === "openclaw" && job.spec.message !== undefined;
  let cancelRequested = false;
  // In CI a cancelled step gets SIGTERM/SIGINT: cancel the job too, then report how it ended.
  const onSignal = () => {
    if (cancelRequested) process.exit(EXIT_CANCELLED);
    cancelRequested = true;
    void writeErr(`skyclaw: cancelling job ${job.id} (signal again to stop waiting)\n`);
    client.cancelJob(job.id, "the submitter stopped waiting").catch((error: unknown) => {
      void writeErr(`skyclaw: could not cancel job ${job.id}: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const finished = await followOutput(client, job.id, { follow: true, hideStdout: isAgentJob, quiet: asJson });
    if (asJson) {
      await writeOut(`${json(finished)}\n`);
    } else {
      const final = finished.result?.openclaw?.final;
      if (isAgentJob && final !== undefined) await writeOut(typeof final === "string" ? `${final.replace(/\n?$/, "\n")}` : `${json(final)}\n`);
      if (finished.state !== "succeeded") {
        await writeErr(`skyclaw: job ${finished.id} ${finished.state}${finished.lastError === null ? "" : `: ${finished.lastError}`}\n`);
      }
    }
    return waitExitCode(finished);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
