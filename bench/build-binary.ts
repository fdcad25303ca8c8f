/** `bun run build` → dist/skyclaw, so the compiled host measured is the code as it is now (about a second). */
import { join, resolve } from "node:path";

const REPO_ROOT = resolve(import.meta.dir, "..");

export function buildBinary(): { path: string } | { error: string } {
  const build = Bun.spawnSync([process.execPath, "run", "build"], { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" });
  if (!build.success) {
    const output = `${build.stderr.toString()}${build.stdout.toString()}`.trim().split("\n").slice(-3).join(" / ");
    return { error: `bun run build failed: ${output}` };
  }
  return { path: join(REPO_ROOT, "dist/skyclaw") };
}
