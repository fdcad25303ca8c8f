/**
 * Restarts this process in place (execve: same pid, same stdio) with the allocator setting of
 * a long-running server (config.ts serverAllocatorEnv), before it opens any file or port.
 * Where execve is missing (Windows) it goes on as it is, and so it does under a profiler or a
 * debugger: a sampling profiler signals the thread it samples, and a signal that lands while
 * execve replaces the process kills it (SIGPWR, seen with --cpu-prof).
 */
import { serverAllocatorEnv } from "../config";

/** The embedded file system of a compiled binary, where argv[1] points instead of a script. */
const EMBEDDED_ENTRY = /^(?:\/\$bunfs\/|[A-Z]:[\\/]~BUN[\\/])/;
const PROFILER_OR_DEBUGGER = /^--(?:cpu-prof|heap-prof|inspect)/;

export function restartWithServerAllocator(): void {
  const env = serverAllocatorEnv();
  const execve = (process as { execve?: (file: string, args: string[], env: Record<string, string | undefined>) => never }).execve;
  if (env === null || execve === undefined || process.execArgv.some((flag) => PROFILER_OR_DEBUGGER.test(flag))) return;
  const [, entry = "", ...args] = process.argv;
  // A compiled binary is its own entry; from source, bun runs the script again with its own flags.
  const argv = EMBEDDED_ENTRY.test(entry) ? [process.execPath, ...args] : [process.execPath, ...process.execArgv, entry, ...args];
  execve(process.execPath, argv, env);
}
