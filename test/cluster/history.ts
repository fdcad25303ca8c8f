/**
 * What the nemesis jobs recorded about their own runs, and the checks on it.
 *
 * Every run of a job appends lines `start|stop|term <HOME> <$EPOCHREALTIME>` to one shared file
 * (O_APPEND, so lines from both hosts do not tear). A host runs each attempt in its own
 * directory `<host state dir>/jobs/<job id>-<attempt>` and gives it as HOME, so HOME says which
 * host ran which attempt of which job without the host passing anything else. `term` is written
 * by the job's SIGTERM trap: the host stopped it (lease lost or timeout). The script is bash for
 * $EPOCHREALTIME: a `$(date)` would be a child process, and the host's SIGTERM to the job's
 * process group can kill it mid-line, leaving a record without a time.
 */
import type { Job } from "../../src/api";

/** The job script: records its start, works `$WORK_S` seconds, records how it ended. `$RUN_LOG` names the file. */
export const RECORDING_SCRIPT =
  `trap 'echo term "$HOME" $EPOCHREALTIME >> "$RUN_LOG"; exit 143' TERM; ` +
  `echo start "$HOME" $EPOCHREALTIME >> "$RUN_LOG"; sleep "$WORK_S" & wait $!; echo stop "$HOME" $EPOCHREALTIME >> "$RUN_LOG"`;

export interface AttemptRun {
  jobId: string;
  attempt: number;
  host: string;
  /** Start times (ns); more than one means the same attempt ran twice. */
  starts: bigint[];
  /** When it ended and how: `stop` ran to the end, `term` was stopped by its host. */
  end: { kind: "stop" | "term"; atNs: bigint } | null;
  /** Hosts that recorded anything for this attempt (more than one: two hosts held one attempt). */
  hosts: Set<string>;
}

/** Runs by job id, then attempt. */
export type RunHistory = Map<string, Map<number, AttemptRun>>;

const LINE = /^(start|stop|term) (\S+)\/jobs\/(\S+)-(\d+) (\d+)[.,](\d{6})$/;

export function parseRunLog(text: string): RunHistory {
  const history: RunHistory = new Map();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const match = LINE.exec(line.trim());
    if (match === null) throw new Error(`run log: unreadable line "${line}"`);
    const [, event, host, jobId, attemptText, seconds, micros] = match as unknown as [string, "start" | "stop" | "term", string, string, string, string, string];
    const attempt = Number(attemptText);
    const at = (BigInt(seconds) * 1_000_000n + BigInt(micros)) * 1_000n;
    let attempts = history.get(jobId);
    if (attempts === undefined) history.set(jobId, (attempts = new Map()));
    let run = attempts.get(attempt);
    if (run === undefined) attempts.set(attempt, (run = { jobId, attempt, host, starts: [], end: null, hosts: new Set() }));
    run.hosts.add(host);
    if (event === "start") run.starts.push(at);
    else if (run.end === null || at > run.end.atNs) run.end = { kind: event, atNs: at };
  }
  return history;
}

/**
 * Violations of "a job never runs twice at once": an attempt started twice or on two hosts, a
 * started attempt with no recorded end, and two attempts of one job whose runs overlap in time.
 */
export function concurrencyViolations(history: RunHistory): string[] {
  const violations: string[] = [];
  for (const [jobId, attempts] of history) {
    const started = [...attempts.values()].filter((run) => run.starts.length > 0).sort((a, b) => compare(a.starts[0]!, b.starts[0]!));
    for (const run of started) {
      if (run.starts.length > 1) violations.push(`job ${jobId}: attempt ${run.attempt} started ${run.starts.length} times`);
      if (run.hosts.size > 1) violations.push(`job ${jobId}: attempt ${run.attempt} ran on ${run.hosts.size} hosts (${[...run.hosts].join(", ")})`);
      if (run.end === null) violations.push(`job ${jobId}: attempt ${run.attempt} on ${run.host} started and never recorded an end`);
    }
    for (let i = 1; i < started.length; i++) {
      const before = started[i - 1]!;
      const after = started[i]!;
      if (after.attempt < before.attempt) violations.push(`job ${jobId}: attempt ${after.attempt} started after attempt ${before.attempt}`);
      const beforeEnd = before.end?.atNs;
      if (beforeEnd === undefined || beforeEnd > after.starts[0]!) {
        const overlapMs = beforeEnd === undefined ? "unknown" : `${Number(beforeEnd - after.starts[0]!) / 1e6} ms`;
        violations.push(
          `job ${jobId}: attempt ${after.attempt} on ${after.host} started while attempt ${before.attempt} on ${before.host} still ran (overlap ${overlapMs})`,
        );
      }
    }
  }
  return violations;
}

/** Violations of "every acknowledged job finished, and its last attempt is one that ran to the end". */
export function completionViolations(jobs: Job[], history: RunHistory): string[] {
  const violations: string[] = [];
  for (const job of jobs) {
    if (job.state !== "succeeded") {
      violations.push(`job ${job.id}: ${job.state} after attempt ${job.attempt} (${job.lastError ?? "no error"})`);
      continue;
    }
    const attempts = history.get(job.id);
    const last = attempts?.get(job.attempt);
    if (last === undefined || last.end?.kind !== "stop") {
      violations.push(`job ${job.id}: succeeded with attempt ${job.attempt}, but that attempt has no recorded run to the end`);
    }
    const later = [...(attempts?.keys() ?? [])].filter((attempt) => attempt > job.attempt);
    if (later.length > 0) violations.push(`job ${job.id}: succeeded with attempt ${job.attempt}, yet attempt(s) ${later.join(", ")} ran`);
  }
  return violations;
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
