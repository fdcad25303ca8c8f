/**
 * What an end-to-end test needs to run the real OpenClaw CLI offline: the command (a wrapper
 * that runs the pinned `openclaw` under Node 26, from install-openclaw.sh), a stub Ollama server
 * on an ephemeral port, and the environment that points OpenClaw at it.
 *
 * OpenClaw has no environment variable for the Ollama address, only config
 * (`models.providers.ollama.baseUrl`); so the env carries OPENCLAW_CONFIG_PATH to a config file
 * naming the stub. That works for `openclaw agent exec <message> --json --model …` exactly as a
 * Skyclaw host runs it (no `--isolated` / `--auth-env-only`, which would ignore the config and
 * pin Ollama to 127.0.0.1:11434). Neither variable is one a host refuses in a job's `env`.
 *
 * The command comes from SKYCLAW_E2E_OPENCLAW (set by .ci/run); when that is unset the install
 * script is run once per test process. Only a failed install makes OpenClaw "unavailable".
 */
import { existsSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "../helpers/processes";
import { STUB_OLLAMA_MODEL, STUB_OLLAMA_REPLY, startStubOllama, type StubRequest } from "../fixtures/stub-ollama";

export const INSTALL_SCRIPT = resolve(import.meta.dir, "install-openclaw.sh");
/** Generous: the first run of the script downloads Node and OpenClaw (~40 s on a fast link). */
const INSTALL_TIMEOUT_MS = 600_000;

export interface OpenclawForTests {
  /** Absolute path of an executable that runs the real `openclaw` CLI. */
  command: string;
  /** Variables OpenClaw needs to reach the stub (pass them to a job's `env` as they are). */
  env: Record<string, string>;
  /** `--model` value served by the stub. */
  model: string;
  /** The assistant text every turn against the stub ends with. */
  reply: string;
  stub: { url: string; requests: readonly StubRequest[]; stop(): Promise<void> };
}

export interface OpenclawUnavailable {
  unavailable: string;
}

let located: Promise<string | OpenclawUnavailable> | undefined;

/** The wrapper path, installing OpenClaw first if needed (once per process). */
export function locateOpenclaw(): Promise<string | OpenclawUnavailable> {
  located ??= locate();
  return located;
}

async function locate(): Promise<string | OpenclawUnavailable> {
  const fromEnv = process.env.SKYCLAW_E2E_OPENCLAW;
  if (fromEnv !== undefined && fromEnv !== "") {
    // Set but wrong is a broken setup, not a missing package: fail rather than skip.
    if (!existsSync(fromEnv)) throw new Error(`SKYCLAW_E2E_OPENCLAW=${fromEnv} does not exist; run test/e2e/install-openclaw.sh`);
    return fromEnv;
  }
  const child = Bun.spawn(["bash", INSTALL_SCRIPT], { stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: INSTALL_TIMEOUT_MS });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  const command = stdout.trim().split("\n").at(-1) ?? "";
  if (exitCode === 0 && command !== "" && existsSync(command)) return command;
  const lastLines = stderr.trim().split("\n").slice(-5).join("\n");
  return { unavailable: `the OpenClaw CLI could not be installed (${INSTALL_SCRIPT} exited with ${exitCode}):\n${lastLines}` };
}

/** Installs (if needed) and starts a stub Ollama server; call `stub.stop()` when done. */
export async function openclawForTests(): Promise<OpenclawForTests | OpenclawUnavailable> {
  const command = await locateOpenclaw();
  if (typeof command !== "string") return command;
  const stub = startStubOllama({ port: 0 });
  const configDir = tempDir("skyclaw-openclaw-config-");
  const configPath = join(configDir, "openclaw.json");
  // "OLLAMA_API_KEY" as apiKey is OpenClaw's marker for "read the key from that variable".
  await Bun.write(configPath, JSON.stringify({ models: { providers: { ollama: { baseUrl: stub.url, api: "ollama", apiKey: "OLLAMA_API_KEY" } } } }));
  return {
    command,
    env: { OLLAMA_API_KEY: "stub-key", OPENCLAW_CONFIG_PATH: configPath },
    model: `ollama/${STUB_OLLAMA_MODEL}`,
    reply: STUB_OLLAMA_REPLY,
    stub: {
      url: stub.url,
      requests: stub.requests,
      async stop() {
        await stub.stop();
        rmSync(configDir, { recursive: true, force: true });
      },
    },
  };
}
