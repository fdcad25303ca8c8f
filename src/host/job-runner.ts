/**
 * One run of one claimed job, from its fresh directory to the outcome the host reports:
 * plan the command (or refuse it), spawn it as its own process group, stream its output,
 * enforce its timeout, stop it on request, make sure none of its processes outlives it, and
 * clean up. A run whose lease was lost ends with no outcome: the coordinator has already given
 * the job to someone else, or will.
 */
import type { Subprocess } from "bun";
import type { CompleteBody, Job, JobResult, OutputStream } from "../api";
import type { SkyclawClient } from "../client/skyclaw-client";
import { HeadTailBuffer } from "./head-tail-buffer";
import { planCommand, type CommandContext, type CommandPlan } from "./job-command";
import { createJobDir, ensureDir, isSafeId, jobDirPath, removeJobDir } from "./job-workdir";
import { envelopeFailure, parseEnvelope } from "./openclaw";
import { OutputRedactor, secretValues } from "./output-redaction";
import { OutputStreamer } from "./output-streamer";
import { groupAlive, terminateGroup } from "./process-group";
import { SIGNATURE_REJECTED, signatureRejection } from "./signature-check";
import { utf8Head, utf8Tail } from "./utf8";

export type StopReason = "timeout" | "cancelled" | "lease_lost" | "host_shutdown";

export type JobOutcome = Pick<CompleteBody, "status" | "result">;

/** Per stream, what a completion reports: this much of the start and of the end. */
const TAIL_PART_MAX_BYTES = 32_768;
/** Largest OpenClaw envelope read from stdout. */
const ENVELOPE_MAX_BYTES = 262_144;
/** After the group is gone, how long a pipe held open by an escaped process may delay the end. */
const PIPE_CLOSE_WAIT_MS = 1_000;
const MESSAGE_MAX_CHARS = 4_000;

export interface JobRunDeps {
  context: CommandContext;
  client: SkyclawClient;
  hostId: string;
  log: (line: string) => void;
}

export class JobRun {
  readonly jobId: string;
  readonly attempt: number;
  /** Resolves with what to report, or null when the lease was lost (report nothing). */
  readonly done: Promise<JobOutcome | null>;
  private stopReason: Exclude<StopReason, "lease_lost"> | null = null;
  private leaseLost = false;
  private child: Subprocess<"ignore", "pipe", "pipe"> | undefined;
  private terminating: Promise<void> | undefined;

  constructor(
    private readonly job: Job,
    private readonly deps: JobRunDeps,
  ) {
    this.jobId = job.id;
    this.attempt = job.attempt;
    this.done = this.run();
  }

  /** Stops the job's process group (SIGTERM, then SIGKILL after the grace period). */
  stop(reason: StopReason): void {
    if (reason === "lease_lost") this.leaseLost = true;
    else this.stopReason ??= reason;
    if (this.child !== undefined) this.terminating ??= terminateGroup(this.child.pid, this.deps.context.config.killGraceMs);
  }

  private async run(): Promise<JobOutcome | null> {
    const { config } = this.deps.context;
    if (!isSafeId(this.job.id)) {
      return refused("bad_job", `job id "${this.job.id.slice(0, 80)}" is not a valid id; refusing to build a path from it`);
    }
    const rejection = signatureRejection(this.job, config.trustedKeys);
    if (rejection !== null) {
      this.log(`refused (${SIGNATURE_REJECTED}): ${rejection}`);
      return refused(SIGNATURE_REJECTED, rejection);
    }
    const dir = jobDirPath(config.stateDir, this.job.id, this.job.attempt);
    try {
      createJobDir(dir);
      const plan = planCommand(this.job, dir, this.deps.context);
      if ("reason" in plan) {
        this.log(`refused (${plan.reason}): ${plan.message}`);
        return refused(plan.reason, plan.message);
      }
      if (this.stopReason !== null || this.leaseLost) return this.outcomeWithoutRun();
      ensureDir(plan.cwd);
      return await this.execute(plan);
    } finally {
      try {
        if (this.job.spec.keepWorkdir === true) this.log(`kept its working directory ${dir}, as the job asked`);
        else removeJobDir(dir);
      } catch (error) {
        // A job can leave files its own user cannot delete; that must not change how it ended.
        this.log(`could not remove ${dir}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  private async execute(plan: CommandPlan): Promise<JobOutcome | null> {
    const { config } = this.deps.context;
    const startedAt = Date.now();
    let child: Subprocess<"ignore", "pipe", "pipe">;
    try {
      child = Bun.spawn([plan.executable, ...plan.args], {
        cwd: plan.cwd,
        env: plan.env,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        detached: true,
      });
    } catch (error) {
      return refused("spawn_failed", `could not start ${plan.executable}: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.child = child;
    this.log(`started pid ${child.pid}: ${[plan.executable, ...plan.args].join(" ").slice(0, 200)}`);
    if (this.stopReason !== null || this.leaseLost) this.terminating ??= terminateGroup(child.pid, config.killGraceMs);

    const timeoutMs = this.job.timeoutMs ?? config.defaultJobTimeoutMs;
    const timeoutTimer = setTimeout(() => this.stop("timeout"), timeoutMs);
    const tailPartBytes = Math.min(TAIL_PART_MAX_BYTES, Math.floor(config.maxOutputBytes / 4));
    const captures = { stdout: new HeadTailBuffer(tailPartBytes, tailPartBytes), stderr: new HeadTailBuffer(tailPartBytes, tailPartBytes) };
    const envelope = plan.expectsEnvelope ? new BoundedText(ENVELOPE_MAX_BYTES) : null;
    const streamer = new OutputStreamer({
      client: this.deps.client,
      jobId: this.job.id,
      hostId: this.deps.hostId,
      attempt: this.job.attempt,
      capBytes: config.maxOutputBytes,
      onLeaseLost: () => {
        this.log("the coordinator refused its output: lease lost");
        this.stop("lease_lost");
      },
      log: this.deps.log,
    });
    const readers: { cancel(): Promise<void> }[] = [];
    // Redacted before anything else sees it: the stream, the stored output, the tails, the envelope.
    const secrets = secretValues(plan.env);
    const pump = async (stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr") => {
      const reader = stream.getReader();
      readers.push(reader);
      const decoder = new TextDecoder();
      const redactor = new OutputRedactor(secrets);
      const take = async (decoded: string, last = false) => {
        const text = last ? redactor.end(decoded) : redactor.push(decoded);
        captures[name].append(text);
        if (name === "stdout") envelope?.append(text);
        await streamer.write(name, text);
      };
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          await take(decoder.decode(value, { stream: true }));
        }
      } catch {
        // The reader was cancelled because a process that left the group held the pipe open.
      }
      await take(decoder.decode(), true);
    };
    const pumps = Promise.all([pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]);

    await child.exited;
    clearTimeout(timeoutTimer);
    // The leader is gone; anything it left behind in its group goes too.
    if (this.terminating === undefined && groupAlive(child.pid)) {
      this.log("processes left behind in its group: stopping them");
      this.terminating = terminateGroup(child.pid, config.killGraceMs);
    }
    await this.terminating;
    const pipesClosed = await Promise.race([pumps.then(() => true), Bun.sleep(PIPE_CLOSE_WAIT_MS).then(() => false)]);
    if (!pipesClosed) for (const reader of readers) void reader.cancel().catch(() => {});
    const durationMs = Date.now() - startedAt;

    if (this.leaseLost) {
      streamer.abandon();
      this.log("stopped without reporting: its lease is lost");
      return null;
    }
    if (streamer.overCap) await streamer.finish(this.unstreamedTails(captures, streamer));
    else await streamer.finish();

    const result: JobResult = {
      exitCode: child.exitCode,
      signal: child.signalCode === null ? null : String(child.signalCode),
      durationMs,
      stdoutTail: captures.stdout.text(),
      stderrTail: captures.stderr.text(),
      truncated: streamer.overCap || captures.stdout.truncated || captures.stderr.truncated,
    };
    const outcome = this.classify(result, timeoutMs, envelope);
    this.log(`${outcome.status}${describeEnd(outcome.result)} in ${durationMs} ms`);
    return outcome;
  }

  private classify(result: JobResult, timeoutMs: number, envelope: BoundedText | null): JobOutcome {
    switch (this.stopReason) {
      case "timeout":
        return { status: "failed", result: { ...result, reason: "timeout", message: `exceeded its timeout of ${timeoutMs} ms; its process group was stopped` } };
      case "cancelled":
        return { status: "cancelled", result: { ...result, reason: "cancelled", message: "cancelled on request; its process group was stopped" } };
      case "host_shutdown":
        return { status: "cancelled", result: { ...result, reason: "host_shutdown", message: "the host shut down while the job ran" } };
    }
    if (envelope === null) return { status: result.exitCode === 0 ? "succeeded" : "failed", result };
    const parsed = envelope.overflowed ? null : parseEnvelope(envelope.text);
    if (parsed === null) {
      const why = envelope.overflowed ? `stdout exceeded ${ENVELOPE_MAX_BYTES} bytes` : "stdout held no JSON object";
      return { status: "failed", result: { ...result, reason: "bad_envelope", message: `openclaw printed no readable JSON envelope (${why})` } };
    }
    const withEnvelope = { ...result, openclaw: parsed };
    if (result.exitCode !== 0) return { status: "failed", result: withEnvelope };
    if (parsed.ok === false) {
      return { status: "failed", result: { ...withEnvelope, reason: "openclaw_failed", message: envelopeFailure(parsed).slice(0, MESSAGE_MAX_CHARS) } };
    }
    return { status: "succeeded", result: withEnvelope };
  }

  /** After a flood: a note, then the end of each stream that was not streamed. */
  private unstreamedTails(captures: Record<"stdout" | "stderr", HeadTailBuffer>, streamer: OutputStreamer) {
    const chunks: { stream: OutputStream; data: string }[] = [
      { stream: "system", data: "\n[skyclaw host: output went past SKYCLAW_MAX_OUTPUT_BYTES; its middle was not streamed, the end follows]\n" },
    ];
    for (const name of ["stdout", "stderr"] as const) {
      const unstreamed = captures[name].totalBytes - streamer.streamedBytesOf(name);
      if (unstreamed > 0) chunks.push({ stream: name, data: utf8Tail(captures[name].tailText(), unstreamed) });
    }
    return chunks;
  }

  private outcomeWithoutRun(): JobOutcome | null {
    if (this.leaseLost) return null;
    const reason = this.stopReason === "timeout" ? "timeout" : this.stopReason!;
    return { status: reason === "timeout" ? "failed" : "cancelled", result: { exitCode: null, signal: null, durationMs: 0, reason, message: "stopped before it started" } };
  }

  private log(line: string): void {
    this.deps.log(`job ${this.job.id} (attempt ${this.job.attempt}): ${line}`);
  }
}

function refused(reason: string, message: string): JobOutcome {
  return { status: "failed", result: { exitCode: null, signal: null, durationMs: 0, reason, message: message.slice(0, MESSAGE_MAX_CHARS) } };
}

function describeEnd(result: JobResult): string {
  const parts = [];
  if (result.reason !== undefined) parts.push(result.reason);
  if (result.exitCode !== null) parts.push(`exit code ${result.exitCode}`);
  if (result.signal !== null) parts.push(`signal ${result.signal}`);
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

/** The first `maxBytes` of a text, and whether there was more. */
class BoundedText {
  text = "";
  private bytes = 0;
  overflowed = false;

  constructor(private readonly maxBytes: number) {}

  append(text: string): void {
    if (this.overflowed || text === "") return;
    const size = Buffer.byteLength(text);
    if (this.bytes + size > this.maxBytes) {
      this.text += utf8Head(text, this.maxBytes - this.bytes);
      this.overflowed = true;
      return;
    }
    this.text += text;
    this.bytes += size;
  }
}
