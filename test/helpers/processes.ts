/**
 * Real skyclaw processes for integration tests: started from source on 127.0.0.1 with an
 * ephemeral port, found by the address they print, and cleaned up by PID.
 */
import type { Subprocess } from "bun";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dir, "../..");
export const CLI_ENTRY = join(REPO_ROOT, "src/cli/main.ts");

const running = new Set<Subprocess>();

export function tempDir(prefix = "skyclaw-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Environment for a child: the parent's, minus any SKYCLAW_* that could leak in, plus `env`. */
export function childEnv(env: Record<string, string> = {}): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("SKYCLAW_")) clean[key] = value;
  }
  return { ...clean, ...env };
}

export interface CoordinatorProcess {
  url: string;
  pid: number;
  dbPath: string;
  process: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number>;
  /** SIGKILL (a crash) and wait for exit. */
  kill9(): Promise<void>;
}

export async function startCoordinatorProcess(options: { dbPath?: string; env?: Record<string, string> } = {}): Promise<CoordinatorProcess> {
  const dbPath = options.dbPath ?? join(tempDir(), "coordinator.db");
  const child = Bun.spawn(["bun", CLI_ENTRY, "coordinator"], {
    env: childEnv({ SKYCLAW_COORDINATOR_PORT: "0", SKYCLAW_DB_PATH: dbPath, ...options.env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  running.add(child);
  const log = collect(child.stderr);
  const url = await log.waitFor(/listening on (http:\/\/[^\s"]+)/, 15_000).catch(async (error) => {
    child.kill("SIGKILL");
    await child.exited;
    throw new Error(`coordinator did not start: ${error.message}\nstderr:\n${log.text()}`);
  });
  return {
    url,
    pid: child.pid,
    dbPath,
    process: child,
    stderr: log.text,
    async stop() {
      child.kill("SIGTERM");
      const code = await child.exited;
      running.delete(child);
      return code;
    },
    async kill9() {
      child.kill("SIGKILL");
      await child.exited;
      running.delete(child);
    },
  };
}

/** The CLI from source as a child process, tracked for killAll. */
function spawnCli(args: string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number }) {
  const child = Bun.spawn(["bun", CLI_ENTRY, ...args], {
    env: childEnv(options.env),
    cwd: options.cwd ?? REPO_ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    ...(options.timeoutMs !== undefined && { timeout: options.timeoutMs }),
  });
  running.add(child);
  return child;
}

/** Runs the CLI to completion. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {},
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const child = spawnCli(args, { ...options, timeoutMs: options.timeoutMs ?? 20_000 });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  running.delete(child);
  return { exitCode, stdout, stderr };
}

export interface CliProcess {
  pid: number;
  process: Subprocess<"ignore", "pipe", "pipe">;
  stdout: ReturnType<typeof collect>;
  stderr: ReturnType<typeof collect>;
  /** Exit code, once the process has ended and its output is collected. */
  exited: Promise<number>;
}

/** Starts the CLI without waiting for it: for long-running commands (`dev`, `host`, `--wait`, `logs -f`). */
export function startCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): CliProcess {
  const child = spawnCli(args, options);
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const exited = Promise.all([child.exited, stdout.ended, stderr.ended]).then(([code]) => {
    running.delete(child);
    return code;
  });
  return { pid: child.pid, process: child, stdout, stderr, exited };
}

/** Kills every process these helpers started that is still running (call in afterAll/afterEach). */
export async function killAll(): Promise<void> {
  const children = [...running];
  running.clear();
  for (const child of children) child.kill("SIGKILL");
  await Promise.all(children.map((child) => child.exited));
}

/**
 * True when no process with this PID runs any more. A zombie counts as gone: it runs nothing,
 * and in containers whose PID 1 never reaps orphans it would otherwise stay "alive" forever.
 */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Accumulates a stream's text and lets a test await a line matching a pattern. */
export function collect(stream: ReadableStream<Uint8Array>) {
  let text = "";
  const waiters: { pattern: RegExp; resolve: (match: string) => void }[] = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      const match = text.match(waiter.pattern);
      if (match !== null) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match[1] ?? match[0]);
      }
    }
  };
  const ended = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      check();
    }
  })();
  return {
    text: () => text,
    /** Resolves when the stream has closed and all its text is in `text()`. */
    ended,
    waitFor(pattern: RegExp, timeoutMs: number): Promise<string> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}`)), timeoutMs);
        waiters.push({
          pattern,
          resolve: (match) => {
            clearTimeout(timer);
            resolve(match);
          },
        });
        check();
      });
    },
  };
}
