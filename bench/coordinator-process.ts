/**
 * The coordinator under test, as its own `bun` process on a fresh database on the normal disk
 * (durability is part of what is measured, so no tmpfs). A separate process keeps the load
 * generator honest on a small machine: it competes for the CPU like a real client would.
 */
import type { Subprocess } from "bun";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { cpuSecondsOf } from "./proc-stats";

const REPO_ROOT = resolve(import.meta.dir, "..");
const CLI_ENTRY = join(REPO_ROOT, "src/cli/main.ts");
export const BENCH_DATA_DIR = join(REPO_ROOT, ".bench");
const START_TIMEOUT_MS = 15_000;
/**
 * Extra `bun` flags for every coordinator the bench starts, to profile them under load:
 * BENCH_COORDINATOR_BUN_FLAGS="--cpu-prof-md --cpu-prof-dir=/tmp/prof" bun run bench --quick
 */
const PROFILER_FLAGS = (process.env.BENCH_COORDINATOR_BUN_FLAGS ?? "").split(" ").filter(Boolean);

export interface BenchCoordinator {
  url: string;
  pid: number;
  /** User + system CPU seconds the coordinator has used (Linux /proc; NaN elsewhere). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const running = new Set<Subprocess>();

/** `cliEntry`: another checkout's src/cli/main.ts, to compare two versions side by side in one run. */
export async function startBenchCoordinator(name: string, env: Record<string, string> = {}, cliEntry = CLI_ENTRY): Promise<BenchCoordinator> {
  const dataDir = join(BENCH_DATA_DIR, name);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const childEnvironment: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("SKYCLAW_")) childEnvironment[key] = value;
  }
  const child = Bun.spawn([process.execPath, ...PROFILER_FLAGS, cliEntry, "coordinator"], {
    env: {
      ...childEnvironment,
      // A profiled coordinator does not restart itself with the server allocator setting
      // (src/cli/server-allocator.ts): it gets the setting from here, as unprofiled ones have it.
      ...(PROFILER_FLAGS.length > 0 && { MIMALLOC_PURGE_DELAY: "-1" }),
      SKYCLAW_COORDINATOR_PORT: "0",
      SKYCLAW_DB_PATH: join(dataDir, "coordinator.db"),
      ...env,
    },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  running.add(child);
  const url = await listeningUrl(child.stderr).catch(async (error: Error) => {
    child.kill("SIGKILL");
    await child.exited;
    running.delete(child);
    throw new Error(`bench coordinator did not start: ${error.message}`);
  });
  return {
    url,
    pid: child.pid,
    cpuSeconds: () => cpuSecondsOf(child.pid),
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
      running.delete(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Kills, by PID, every coordinator this module started that is still running. */
export function killBenchCoordinators(): void {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
}

async function listeningUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const reader = stderr.getReader();
  const timeout = setTimeout(() => void reader.cancel(), START_TIMEOUT_MS);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`exited or timed out; stderr:\n${text}`);
      text += decoder.decode(value, { stream: true });
      const match = text.match(/listening on (http:\/\/\S+)/);
      if (match !== null) {
        // Keep draining stderr so the child never blocks on a full pipe.
        void (async () => {
          for (;;) if ((await reader.read()).done) return;
        })();
        return match[1]!;
      }
    }
  } finally {
    clearTimeout(timeout);
  }
}
