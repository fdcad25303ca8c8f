/** Human-readable rendering of jobs and hosts for the terminal; `--json` bypasses all of it. */
import type { Host, Job, JobSpec } from "../api";

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

/** "3s ago", "5m ago", "2h ago", "4d ago". */
export function ago(atMs: number, nowMs: number = Date.now()): string {
  const seconds = Math.max(0, Math.round((nowMs - atMs) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

function quoteArg(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** What the job runs, as a shell-like line: `bash -lc 'echo hi'`, `openclaw --message '…'`. */
export function describeSpec(spec: JobSpec): string {
  if (spec.kind === "openclaw" && spec.message !== undefined) return `openclaw --message ${quoteArg(spec.message)}`;
  const argv = [spec.command ?? "openclaw", ...(spec.args ?? [])];
  return argv.map(quoteArg).join(" ");
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function jobsTable(jobs: Job[]): string {
  return table(
    ["ID", "STATE", "KIND", "ATTEMPT", "HOST", "CREATED", "COMMAND"],
    jobs.map((job) => [
      job.id,
      job.state,
      job.kind,
      `${job.attempt}/${job.maxAttempts}`,
      job.hostId ?? "-",
      ago(job.createdAt),
      truncate(describeSpec(job.spec), 60),
    ]),
  );
}

/** A revoked host is `lost` in the state; people want to see why, so it shows as `revoked`. */
export function hostState(host: Host): string {
  return host.revokedAt === undefined || host.revokedAt === null ? host.state : "revoked";
}

export function hostsTable(hosts: Host[]): string {
  return table(
    ["ID", "NAME", "STATE", "SLOTS", "RUNNING", "HEARTBEAT", "CAPABILITIES"],
    hosts.map((host) => [
      host.id,
      host.name,
      hostState(host),
      String(host.slots),
      String(host.runningJobs),
      ago(host.lastHeartbeatAt),
      host.capabilities.join(","),
    ]),
  );
}

/** `key: value` lines for `skyclaw jobs get`. */
export function jobDetails(job: Job): string {
  const lines: [string, string | undefined][] = [
    ["id", job.id],
    ["state", job.state],
    ["kind", job.kind],
    ["submitter", job.submitter ?? undefined],
    ["command", describeSpec(job.spec)],
    ["cwd", job.spec.cwd],
    ["env", job.spec.env === undefined ? undefined : Object.keys(job.spec.env).join(", ")],
    ["requires", job.requires.length === 0 ? undefined : job.requires.join(", ")],
    ["priority", String(job.priority)],
    ["timeout", job.timeoutMs === null ? undefined : `${job.timeoutMs} ms`],
    ["attempt", `${job.attempt} of ${job.maxAttempts}${job.retryOnFailure ? " (retries on failure)" : ""}`],
    ["host", job.hostId ?? undefined],
    ["created", `${new Date(job.createdAt).toISOString()} (${ago(job.createdAt)})`],
    ["finished", job.finishedAt === null ? undefined : new Date(job.finishedAt).toISOString()],
    ["cancel requested", job.cancelRequestedAt === null ? undefined : new Date(job.cancelRequestedAt).toISOString()],
    ["exit code", job.result?.exitCode === undefined || job.result.exitCode === null ? undefined : String(job.result.exitCode)],
    ["signal", job.result?.signal ?? undefined],
    ["reason", job.result?.reason],
    ["duration", job.result === null ? undefined : `${job.result.durationMs} ms`],
    ["output", job.outputBytes === 0 ? undefined : `${job.outputBytes} bytes${job.outputTruncated ? " (truncated)" : ""}`],
    ["error", job.lastError ?? undefined],
  ];
  const shown = lines.filter((entry): entry is [string, string] => entry[1] !== undefined);
  const width = Math.max(...shown.map(([key]) => key.length)) + 1;
  return shown.map(([key, value]) => `${`${key}:`.padEnd(width)} ${value}`).join("\n");
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
