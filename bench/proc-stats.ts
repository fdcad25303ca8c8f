/** What Linux says about a process under test: resident memory and CPU time (NaN elsewhere). */
import { readFileSync } from "node:fs";

const CLOCK_TICKS_PER_SECOND = 100;

/** VmRSS from /proc/<pid>/status, in bytes. */
export function rssBytesOf(pid: number): number {
  try {
    const match = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB$/m);
    return match === null ? NaN : Number(match[1]) * 1024;
  } catch {
    return NaN;
  }
}

/** User + system CPU seconds from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}
