/**
 * Printing a job's stored output and, when following, its live output until the job finishes.
 * Uses the coordinator's output long-poll, so chunks appear as soon as the host sends them and
 * the client's failover carries a follow across a coordinator change.
 */
import { TERMINAL_JOB_STATES, type Job, type OutputChunk } from "../api";
import type { SkyclawClient } from "../client/skyclaw-client";
import { writeErr, writeOut } from "./output";

const FOLLOW_POLL_WAIT_MS = 25_000;

export interface FollowOptions {
  /** Keep going until the job reaches a final state. */
  follow: boolean;
  /** Skip stdout chunks (an OpenClaw agent job's stdout is its JSON envelope, shown as `final`). */
  hideStdout?: boolean;
  /** Print nothing; only wait. */
  quiet?: boolean;
  signal?: AbortSignal;
}

async function printChunk(chunk: OutputChunk, options: FollowOptions): Promise<void> {
  if (options.quiet) return;
  if (chunk.stream === "stdout") {
    if (!options.hideStdout) await writeOut(chunk.data);
  } else {
    await writeErr(chunk.data);
  }
}

/** Prints output from the start; returns the job as last seen (final when following). */
export async function followOutput(client: SkyclawClient, jobId: string, options: FollowOptions): Promise<Job> {
  let after = 0;
  let attemptShown: number | undefined;
  for (;;) {
    const page = await client.jobOutput(jobId, after, options.follow ? FOLLOW_POLL_WAIT_MS : 0, options.signal);
    for (const chunk of page.chunks) {
      if (attemptShown !== undefined && chunk.attempt !== attemptShown && !options.quiet) {
        await writeErr(`skyclaw: attempt ${chunk.attempt} of job ${jobId}\n`);
      }
      attemptShown = chunk.attempt;
      await printChunk(chunk, options);
    }
    after = page.lastSeq;
    // A page with chunks may not be the last one, even for a finished job.
    if (page.chunks.length > 0) continue;
    if (!options.follow || TERMINAL_JOB_STATES.has(page.job.state)) return page.job;
  }
}
