/**
 * A job's processes as one unit. Each job is spawned as the leader of its own process group
 * (`detached: true`), so a signal to `-pgid` reaches every process it forked, including ones
 * that outlived their parent. Stopping a group is SIGTERM to all of it, then SIGKILL to
 * whatever is still running after a grace period.
 */
import { readdirSync, readFileSync } from "node:fs";

const POLL_MS = 25;
/** After SIGKILL, how long to wait for the kernel to finish off the group before giving up. */
const AFTER_KILL_WAIT_MS = 2_000;

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group has no process left.
  }
}

/**
 * Whether any process of the group still runs. Zombies do not count: where PID 1 does not reap
 * orphans (some container inits), killed grandchildren linger as zombies but run nothing, and
 * `kill(-pgid, 0)` alone would call the group alive forever.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (process.platform !== "linux") return true;
  for (const entry of readdirSync("/proc")) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    // The command name may hold spaces and parentheses; the fields after the last ")" are fixed:
    // state, ppid, pgrp, …
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] !== "Z" && fields[0] !== "X" && Number(fields[2]) === pgid) return true;
  }
  return false;
}

/**
 * SIGTERM to the whole group, SIGKILL after `graceMs` if any process is left, and resolve once
 * none runs. There is no event for "a grandchild exited", hence the polling.
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  signalGroup(pgid, "SIGTERM");
  if (await waitUntilGone(pgid, graceMs)) return;
  signalGroup(pgid, "SIGKILL");
  await waitUntilGone(pgid, AFTER_KILL_WAIT_MS);
}

async function waitUntilGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!groupAlive(pgid)) return true;
    const remaining = deadline - Date.now();
    if (remaining <= 0) return false;
    await Bun.sleep(Math.min(POLL_MS, remaining));
  }
}
