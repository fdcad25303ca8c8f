/**
 * The clock shared by the bench and its dispatch-latency jobs. The job prints a clock reading
 * as it starts; the bench reads the same clock (through libc, as Bun exposes only clocks
 * relative to its own start) just before it sends the enqueue. Both sides read the same
 * kernel clock, so the difference needs no calibration.
 *
 * Preferred: bench/clock-stamp.c compiled static with `cc`, reading CLOCK_MONOTONIC (immune to
 * clock steps). Without a C compiler: `date +%s%N` and CLOCK_REALTIME, which adds the dynamic
 * loader and date's own start-up (about 1 ms) to every sample.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { realpathSync } from "node:fs";
import { join } from "node:path";

const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
const STAMP_SOURCE = join(import.meta.dir, "clock-stamp.c");

export interface JobClock {
  /** Absolute path of the program a job runs; what the host must allow. */
  executable: string;
  args: string[];
  /** Read the clock the job prints, in nanoseconds. */
  nowNs(): bigint;
  description: string;
}

const libc = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", {
  clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
});
// struct timespec on 64-bit Linux: two 64-bit fields. Kept alive for the pointer's sake.
const timespec = new BigInt64Array(2);
const timespecPointer = ptr(timespec);

function clockNs(clockId: number): bigint {
  if (libc.symbols.clock_gettime(clockId, timespecPointer) !== 0) throw new Error(`clock_gettime(${clockId}) failed`);
  return timespec[0]! * 1_000_000_000n + timespec[1]!;
}

/** Builds the stamp program into `dir` when a C compiler is there, else falls back to `date`. */
export function prepareJobClock(dir: string): JobClock {
  const output = join(dir, "clock-stamp");
  for (const flags of [["-static"], []]) {
    const build = Bun.spawnSync(["cc", "-O2", ...flags, "-o", output, STAMP_SOURCE], { stdout: "ignore", stderr: "pipe" });
    if (build.success) {
      return {
        executable: output,
        args: [],
        nowNs: () => clockNs(CLOCK_MONOTONIC),
        description: `bench/clock-stamp.c (${flags.length > 0 ? "static" : "dynamic"}), CLOCK_MONOTONIC`,
      };
    }
  }
  const date = Bun.which("date");
  if (date === null) throw new Error("dispatch bench: neither a C compiler (cc) nor date(1) is available to time job starts");
  return {
    executable: realpathSync(date),
    args: ["+%s%N"],
    nowNs: () => clockNs(CLOCK_REALTIME),
    description: "date +%s%N (no C compiler), CLOCK_REALTIME; includes the dynamic loader and date's start-up",
  };
}

/** The same program started straight from this process: the floor a host cannot beat. */
export async function directSpawnLatencyMs(clock: JobClock): Promise<number> {
  const before = clock.nowNs();
  const child = Bun.spawn([clock.executable, ...clock.args], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  const printed = await new Response(child.stdout).text();
  await child.exited;
  return Number(BigInt(printed.trim()) - before) / 1e6;
}
