/**
 * The host's identity on disk (stateDir/host.json, mode 0600), so a restarted daemon
 * re-registers as the same host instead of leaving a ghost behind. It holds the host's
 * credential too: the coordinator shows it once and keeps only its hash.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isSafeId } from "./job-workdir";

export interface HostIdentity {
  hostId: string;
  /** The per-host secret the coordinator issued at registration (shown once); absent from older files. */
  credential?: string;
}

const FILE_NAME = "host.json";

export function identityPath(stateDir: string): string {
  return join(stateDir, FILE_NAME);
}

/** The stored identity, null when there is none yet; a damaged file is an error, not a new host. */
export function loadIdentity(stateDir: string): HostIdentity | null {
  const path = identityPath(stateDir);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON; fix it or delete it to register as a new host`);
  }
  const hostId = (parsed as { hostId?: unknown } | null)?.hostId;
  if (typeof hostId !== "string" || !isSafeId(hostId)) {
    throw new Error(`${path} holds no valid "hostId"; fix it or delete it to register as a new host`);
  }
  const credential = (parsed as { credential?: unknown }).credential;
  if (credential !== undefined && typeof credential !== "string") {
    throw new Error(`${path} holds a "credential" that is not a string; fix it or delete it to register as a new host`);
  }
  return credential === undefined ? { hostId } : { hostId, credential };
}

export function saveIdentity(stateDir: string, identity: HostIdentity): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = identityPath(stateDir);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
