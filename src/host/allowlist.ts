/**
 * Which executables a host runs: SKYCLAW_ALLOWED_COMMANDS, matched on the file that would
 * really execute, never on a string a job can shape.
 *
 * Each allowed entry is resolved once at start-up the way a command is: a bare name is looked
 * up on the HOST's PATH, a path is taken relative to the host's working directory; then
 * symlinks are resolved (realpath). A job's command is resolved the same way (a relative path
 * against the job's own working directory) and runs only if its realpath is one of the allowed
 * realpaths. The job's env never takes part: its PATH is refused before any lookup, and the
 * host spawns the resolved realpath itself, so nothing can be swapped in between.
 *
 * An empty allowlist allows no shell job at all. It does not mean "allow everything": a host
 * that forgot to set the variable must not run arbitrary commands for whoever reaches its
 * coordinator. OpenClaw jobs are not affected: they always run the host's own
 * SKYCLAW_OPENCLAW_COMMAND, which a job cannot name or change (see job-command.ts).
 */
import { accessSync, constants, realpathSync, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";

export interface AllowedCommand {
  /** As written in SKYCLAW_ALLOWED_COMMANDS. */
  entry: string;
  realpath: string;
}

export class Allowlist {
  private readonly realpaths: Set<string>;

  constructor(
    readonly allowed: readonly AllowedCommand[],
    /** Entries that resolve to no executable on this host (reported at start-up). */
    readonly unresolved: readonly string[],
  ) {
    this.realpaths = new Set(allowed.map((command) => command.realpath));
  }

  static fromConfig(entries: readonly string[], searchPath: string, baseDir: string = process.cwd()): Allowlist {
    const allowed: AllowedCommand[] = [];
    const unresolved: string[] = [];
    for (const entry of entries) {
      const realpath = resolveExecutable(entry, searchPath, baseDir);
      if (realpath === null) unresolved.push(entry);
      else allowed.push({ entry, realpath });
    }
    return new Allowlist(allowed, unresolved);
  }

  allows(realpath: string): boolean {
    return this.realpaths.has(realpath);
  }

  describe(): string {
    if (this.allowed.length === 0) return "SKYCLAW_ALLOWED_COMMANDS is empty, so this host runs no shell commands";
    const list = this.allowed.map(({ entry, realpath }) => (entry === realpath ? entry : `${entry} → ${realpath}`)).join(", ");
    return `SKYCLAW_ALLOWED_COMMANDS allows: ${list}`;
  }
}

/**
 * The realpath of the executable `command` names, or null if there is none. A name without a
 * slash is searched on `searchPath` (absolute directories only: a "." entry would let the
 * working directory decide); a name with a slash is a path, relative to `baseDir`.
 */
export function resolveExecutable(command: string, searchPath: string, baseDir: string): string | null {
  if (command.includes("\0")) return null;
  if (command.includes("/")) return executableRealpath(resolve(baseDir, command));
  for (const dir of searchPath.split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    const found = executableRealpath(join(dir, command));
    if (found !== null) return found;
  }
  return null;
}

function executableRealpath(path: string): string | null {
  try {
    const real = realpathSync(path);
    if (!statSync(real).isFile()) return null;
    accessSync(real, constants.X_OK);
    return real;
  } catch {
    return null;
  }
}
