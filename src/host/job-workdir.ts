/**
 * Each run of a job gets a fresh, private directory, stateDir/jobs/<jobId>-<attempt>, removed
 * when the run is over unless the job asked to keep it (`keepWorkdir`). A job's `cwd` is a path inside it; anything that would leave it is
 * refused.
 */
import { mkdirSync, rmSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";

/** Job and host ids come from the coordinator; a host still refuses to build a path from anything else. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function isSafeId(id: string): boolean {
  return SAFE_ID.test(id);
}

export function jobDirPath(stateDir: string, jobId: string, attempt: number): string {
  return resolve(stateDir, "jobs", `${jobId}-${attempt}`);
}

/** Creates the directory empty (a leftover from a crashed run of the same attempt is wiped). */
export function createJobDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function removeJobDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * The absolute working directory for `cwd` inside `jobDir`, or an error message. The directory
 * is fresh and empty, so no symlink inside it can lead out; a purely lexical check suffices.
 */
export function jobCwd(jobDir: string, cwd: string | undefined): { path: string } | { error: string } {
  if (cwd === undefined) return { path: jobDir };
  if (cwd.includes("\0")) return { error: "cwd contains a NUL byte" };
  if (isAbsolute(cwd)) return { error: `cwd "${cwd}" must be a relative path inside the job's working directory` };
  const path = resolve(jobDir, cwd);
  const inside = relative(jobDir, path);
  if (inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    return { error: `cwd "${cwd}" leaves the job's working directory` };
  }
  return { path };
}

export function ensureDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
}

