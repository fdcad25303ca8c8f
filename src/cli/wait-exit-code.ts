/**
 * The exit code of `skyclaw enqueue-* --wait`, so that a CI step fails exactly when its job did:
 *
 *   0        the job succeeded
 *   1..255   the job's own non-zero exit code
 *   124      the job ran out of time (result.reason "timeout"; the code coreutils `timeout` uses)
 *   130      the job was cancelled
 *   128+N    the job was killed by signal N for another reason
 *   125      the job ended without an exit code: dead (attempts used up by lost leases), refused
 *            by the host (not_allowed), failed to spawn, or any other failure
 *   1        an OpenClaw agent job whose envelope says ok: false although the process exited 0
 */
import { constants } from "node:os";
import type { Job } from "../api";

export const EXIT_TIMEOUT = 124;
export const EXIT_NO_EXIT_CODE = 125;
export const EXIT_CANCELLED = 130;

function openclawFailed(job: Job): boolean {
  return job.result?.openclaw !== undefined && job.result.openclaw.ok === false;
}

export function waitExitCode(job: Job): number {
  const result = job.result;
  switch (job.state) {
    case "succeeded":
      return openclawFailed(job) ? 1 : 0;
    case "cancelled":
      return EXIT_CANCELLED;
    case "dead":
      return EXIT_NO_EXIT_CODE;
    case "failed": {
      if (result?.reason === "timeout") return EXIT_TIMEOUT;
      if (result?.reason === "cancelled") return EXIT_CANCELLED;
      if (result?.exitCode !== undefined && result.exitCode !== null && result.exitCode !== 0) return (result.exitCode & 255) || 1;
      const signalNumber = result?.signal ? constants.signals[result.signal as NodeJS.Signals] : undefined;
      if (signalNumber !== undefined) return 128 + signalNumber;
      if (openclawFailed(job) || result?.exitCode === 0) return 1;
      return EXIT_NO_EXIT_CODE;
    }
    default:
      throw new Error(`job ${job.id} is still ${job.state}`);
  }
}
