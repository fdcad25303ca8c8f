/**
 * A real `skyclaw host` under test, as its own process: from source (`bun src/cli/main.ts
 * host`) or the compiled binary, talking to a bench coordinator over HTTP like any host.
 * It starts only with what the bench gives it: no SKYCLAW_* from the bench's environment.
 */
import type { Subprocess } from "bun";
import { join, resolve } from "node:path";
import { cpuSecondsOf, rssBytesOf } from "./proc-stats";

const REPO_ROOT = resolve(import.meta.dir, "..");
const CLI_ENTRY = join(REPO_ROOT, "src/cli/main.ts");
const REGISTER_TIMEOUT_MS = 15_000;
const REGISTER_POLL_MS = 20;
const STDERR_KEPT_CHARS = 4_000;

export interface BenchHostOptions {
  coordinatorUrl: string;
  /** Path of a compiled `skyclaw`; absent = run the source with this bun. */
  binary?: string;
  name: string;
  stateDir: string;
  allowedCommands: string[];
}

export interface BenchHost {
  pid: number;
  rssBytes(): number;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const running = new Set<Subprocess>();

export async function startBenchHost(options: BenchHostOptions): Promise<BenchHost> {
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("SKYCLAW_")) environment[key] = value;
  }
  const argv = options.binary === undefined ? [process.execPath, CLI_ENTRY, "host"] : [options.binary, "host"];
  const child = Bun.spawn(argv, {
    env: {
      ...environment,
      SKYCLAW_COORDINATOR_URL: options.coordinatorUrl,
      SKYCLAW_ALLOWED_COMMANDS: options.allowedCommands.join(","),
      SKYCLAW_MAX_PARALLEL: "1",
      SKYCLAW_HOST_NAME: options.name,
      SKYCLAW_HOST_STATE_DIR: options.stateDir,
    },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  running.add(child);
  let stderrText = "";
  // Drained for the whole run (the host logs every job), keeping only the end for error messages.
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) stderrText = (stderrText + decoder.decode(chunk, { stream: true })).slice(-STDERR_KEPT_CHARS);
  })();
  const stop = async () => {
    child.kill("SIGTERM");
    await child.exited;
    running.delete(child);
  };
  try {
    await registered(options.coordinatorUrl, options.name, child);
  } catch (error) {
    child.kill("SIGKILL");
    await child.exited;
    running.delete(child);
    throw new Error(`bench host did not register: ${(error as Error).message}; its stderr ends with:\n${stderrText}`);
  }
  return { pid: child.pid, rssBytes: () => rssBytesOf(child.pid), cpuSeconds: () => cpuSecondsOf(child.pid), stop };
}

/** Kills, by PID, every host this module started that is still running. */
export function killBenchHosts(): void {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
}

/** The coordinator is the only one who can say the host is registered; it has no event for it, so poll. */
async function registered(coordinatorUrl: string, name: string, child: Subprocess): Promise<void> {
  const deadline = performance.now() + REGISTER_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`it exited (${child.exitCode ?? child.signalCode})`);
    const response = await fetch(`${coordinatorUrl}/v1/hosts`);
    const { hosts } = (await response.json()) as { hosts: { name: string; state: string }[] };
    if (hosts.some((host) => host.name === name && host.state === "active")) return;
    await Bun.sleep(REGISTER_POLL_MS);
  }
  throw new Error(`not listed active by GET /v1/hosts within ${REGISTER_TIMEOUT_MS} ms`);
}
