/**
 * What the host tells the coordinator it can do. "openclaw" is advertised only when it is
 * configured and the OpenClaw CLI answers `--version` here, so no openclaw job is sent to a
 * host that would fail it.
 */
import type { HostConfig } from "../config";
import { resolveExecutable } from "./allowlist";
import { probeOpenclaw } from "./openclaw";

export interface HostCapabilities {
  capabilities: string[];
  /** Realpath of the OpenClaw CLI, when it works. */
  openclawExecutable: string | null;
}

export async function detectCapabilities(config: HostConfig, log: (line: string) => void): Promise<HostCapabilities> {
  const others = config.capabilities.filter((capability) => capability !== "openclaw");
  // A host not configured for OpenClaw runs no openclaw job, even if the CLI happens to be there.
  if (!config.capabilities.includes("openclaw")) return { capabilities: others, openclawExecutable: null };
  const executable = resolveExecutable(config.openclawCommand, config.jobPath, process.cwd());
  const version =
    executable === null
      ? null
      : await probeOpenclaw(executable, { PATH: config.jobPath, HOME: config.stateDir, LANG: config.jobLang, TERM: "dumb" });
  if (version === null) {
    const why = executable === null ? "no such executable on the host's PATH" : `\`${executable} --version\` failed`;
    log(`skyclaw host: not advertising "openclaw": ${why} (set SKYCLAW_OPENCLAW_COMMAND)`);
    return { capabilities: others, openclawExecutable: null };
  }
  log(`skyclaw host: OpenClaw CLI ${executable} (${version})`);
  return { capabilities: config.capabilities, openclawExecutable: executable };
}
