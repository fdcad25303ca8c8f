/**
 * OpenClaw jobs: which arguments the host's OpenClaw CLI gets, whether the CLI is present, and
 * the JSON envelope an `agent exec … --json` run prints.
 */
import type { JobSpec } from "../api";

const PROBE_TIMEOUT_MS = 10_000;

/** `args` as given, or the agent form `agent exec <message> --json [--model m] [--thinking t] [--agent a]`. */
export function openclawArgs(spec: JobSpec): string[] {
  if (spec.message === undefined) return spec.args ?? [];
  const args = ["agent", "exec", spec.message, "--json"];
  if (spec.model !== undefined) args.push("--model", spec.model);
  if (spec.thinking !== undefined) args.push("--thinking", spec.thinking);
  if (spec.agent !== undefined) args.push("--agent", spec.agent);
  return args;
}

/** Runs `<executable> --version`; the first line of its output when it succeeds, else null. */
export async function probeOpenclaw(executable: string, env: Record<string, string>): Promise<string | null> {
  try {
    const child = Bun.spawn([executable, "--version"], {
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "ignore",
      timeout: PROBE_TIMEOUT_MS,
      killSignal: "SIGKILL",
    });
    const [stdout, exitCode] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    if (exitCode !== 0) return null;
    return stdout.trim().split("\n")[0]?.slice(0, 200) || "unknown version";
  } catch {
    return null;
  }
}

/**
 * The envelope printed by `openclaw agent exec --json`: the whole of stdout, or failing that
 * its last line that parses as a JSON object (tools may log before it).
 */
export function parseEnvelope(stdout: string): Record<string, unknown> | null {
  const whole = tryObject(stdout.trim());
  if (whole !== null) return whole;
  const lines = stdout.split("\n");
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = lines[index]!.trim();
    if (!line.startsWith("{")) continue;
    const fromHere = tryObject(lines.slice(index).join("\n").trim()) ?? tryObject(line);
    if (fromHere !== null) return fromHere;
  }
  return null;
}

function tryObject(text: string): Record<string, unknown> | null {
  if (!text.startsWith("{")) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A short account of a failed envelope for the job's result message. */
export function envelopeFailure(envelope: Record<string, unknown>): string {
  const error = envelope.error;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
    return (error as { message: string }).message;
  }
  return `openclaw reported ok: false${typeof envelope.status === "string" ? ` (status ${envelope.status})` : ""}`;
}
