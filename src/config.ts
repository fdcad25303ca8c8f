/**
 * Every SKYCLAW_* variable, parsed and validated in one place.
 *
 * Nothing else in the code base reads `process.env`: the coordinator, the host and the client
 * each get a typed config object from here, so a bad value is one clear start-up error naming
 * the variable instead of a NaN discovered an hour later.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { normalizePublicKey } from "./signing/ed25519-keys";

export type Env = Record<string, string | undefined>;

/** A bad environment value; `variable` names the culprit so the message can say so. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `expected a whole number, got "${value}"`);
  const parsed = Number(value);
  if (parsed < min || parsed > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${parsed}`);
  return parsed;
}

function list(env: Env, name: string): string[] {
  const value = raw(env, name);
  if (value === undefined) return [];
  return [...new Set(value.split(",").map((item) => item.trim()).filter((item) => item !== ""))];
}

function httpUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, `"${value}" is not a URL (expected e.g. http://127.0.0.1:8787)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(name, `"${value}" must use http:// or https://`);
  }
  return url.origin + url.pathname.replace(/\/+$/, "");
}

const CAPABILITY_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function capabilities(env: Env, name: string, fallback: string[]): string[] {
  const values = raw(env, name) === undefined ? fallback : list(env, name);
  for (const value of values) {
    if (!CAPABILITY_PATTERN.test(value)) {
      throw new ConfigError(name, `"${value}" is not a capability name (lowercase letters, digits, . _ -)`);
    }
  }
  return values;
}

// ---------------------------------------------------------------------------------------------
// Shared timing: the coordinator and its hosts must agree on these, so both read them here.

export interface Timings {
  /** How long a claim's lease lasts without renewal. */
  leaseMs: number;
  /** How often a host heartbeats (and so renews its leases). Must be well under `leaseMs`. */
  heartbeatMs: number;
  /** A host silent for this long is marked lost. */
  hostTimeoutMs: number;
  /** Longest a claim long-poll waits for a job before returning empty. */
  claimWaitMs: number;
}

function timings(env: Env): Timings {
  const leaseMs = integer(env, "SKYCLAW_LEASE_MS", 30_000, 100, 86_400_000);
  const heartbeatMs = integer(env, "SKYCLAW_HEARTBEAT_MS", Math.min(5_000, Math.floor(leaseMs / 3)), 10, 3_600_000);
  if (heartbeatMs * 2 > leaseMs) {
    throw new ConfigError("SKYCLAW_HEARTBEAT_MS", `must be at most half of SKYCLAW_LEASE_MS (${leaseMs}), got ${heartbeatMs}`);
  }
  const hostTimeoutMs = integer(env, "SKYCLAW_HOST_TIMEOUT_MS", leaseMs, heartbeatMs * 2, 86_400_000);
  const claimWaitMs = integer(env, "SKYCLAW_CLAIM_WAIT_MS", 20_000, 0, 300_000);
  return { leaseMs, heartbeatMs, hostTimeoutMs, claimWaitMs };
}

// ---------------------------------------------------------------------------------------------

export interface CoordinatorConfig {
  nodeId: string;
  host: string;
  port: number;
  dbPath: string;
  token: string | undefined;
  peerUrls: string[];
  minReplications: number;
  /** Cluster mode (peers or a join): this node's Raft identity and replication settings. */
  cluster: ClusterConfig;
  timings: Timings;
  /** How long an idempotency record is honoured. */
  idempotencyTtlMs: number;
  maxBodyBytes: number;
  /** Per-job stored output cap (head + tail), enforced again on the coordinator. */
  maxOutputBytes: number;
  /** Serve /metrics without the token (SKYCLAW_METRICS_PUBLIC=1), for a scraper that holds no secret. */
  metricsPublic: boolean;
  /** The role secrets (see src/coordinator/auth/). */
  auth: AuthConfig;
}

/** A submit key of SKYCLAW_PUBLIC_API_KEYS: `key:label:cap1|cap2[:shell]`. */
export interface SubmitKey {
  key: string;
  /** Recorded on every job it enqueues; the key sees only jobs with its label. */
  label: string;
  /** Capabilities its jobs may require. */
  capabilities: string[];
  /** May enqueue shell jobs. */
  shell: boolean;
}

export interface AuthConfig {
  /** SKYCLAW_TOKEN: the seed's one secret, accepted for every role. */
  legacyToken: string | undefined;
  adminToken: string | undefined;
  /** SKYCLAW_PEER_TOKEN itself (no fallback): the peer role on the API (cluster membership). */
  peerToken: string | undefined;
  hostJoinToken: string | undefined;
  submitKeys: SubmitKey[];
  /** False when no secret at all is set (a loopback coordinator): every request is allowed. */
  enabled: boolean;
}

export interface ClusterConfig {
  /** True when SKYCLAW_PEER_URLS or SKYCLAW_CLUSTER_JOIN is set: the node runs Raft with peers. */
  enabled: boolean;
  /** This node's URL as its peers reach it; it is also its Raft id. */
  advertiseUrl: string;
  /** Start with an empty log and wait to be added by `skyclaw cluster join` (no bootstrap). */
  join: boolean;
  /** Secret between coordinators for /v1/replicate/*; SKYCLAW_TOKEN when SKYCLAW_PEER_TOKEN is unset. */
  peerToken: string | undefined;
  /** True when the peer token is SKYCLAW_TOKEN because SKYCLAW_PEER_TOKEN is unset (warn at start-up). */
  peerTokenFallback: boolean;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  /** Snapshot the state machine at most every this many applied entries (see snapshot-policy.ts), then compact the log. */
  snapshotIntervalEntries: number;
  /** Entries kept below a snapshot so slightly-behind followers catch up from the log. */
  snapshotRetainEntries: number;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/**
 * The environment a long-running server (`skyclaw coordinator`, `skyclaw dev`) restarts itself
 * with before doing anything, or null when it need not. Bun's allocator (mimalloc) returns freed
 * memory to the kernel shortly after it is freed, and takes it back page by page at the next
 * burst: on a busy coordinator that was a background thread, madvise calls and page faults
 * worth ~13% of its CPU per job (a server keeps its peak memory anyway). It reads the setting
 * only at process start, hence the restart. A MIMALLOC_PURGE_DELAY already set is kept.
 */
export function serverAllocatorEnv(env: Env = process.env): Env | null {
  if (env.MIMALLOC_PURGE_DELAY !== undefined) return null;
  return { ...env, MIMALLOC_PURGE_DELAY: "-1" };
}

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || host.startsWith("127.");
}

export function loadCoordinatorConfig(env: Env = process.env): CoordinatorConfig {
  const host = raw(env, "SKYCLAW_COORDINATOR_HOST") ?? "127.0.0.1";
  const token = raw(env, "SKYCLAW_TOKEN");
  const auth = authConfig(env, token);
  if (!isLoopback(host) && !auth.enabled) {
    throw new ConfigError(
      "SKYCLAW_TOKEN",
      `(or SKYCLAW_ADMIN_TOKEN, SKYCLAW_PEER_TOKEN, SKYCLAW_HOST_JOIN_TOKEN, SKYCLAW_PUBLIC_API_KEYS) must be set when SKYCLAW_COORDINATOR_HOST is "${host}" (not loopback): anyone who can reach the port could run commands on your hosts`,
    );
  }
  const peerUrls = list(env, "SKYCLAW_PEER_URLS").map((url) => httpUrl("SKYCLAW_PEER_URLS", url));
  const clusterSize = peerUrls.length + 1;
  const explicitMin = raw(env, "SKYCLAW_MIN_REPLICATIONS") !== undefined;
  const minReplications = integer(env, "SKYCLAW_MIN_REPLICATIONS", 2, 1, 100);
  if (explicitMin && minReplications > clusterSize) {
    throw new ConfigError(
      "SKYCLAW_MIN_REPLICATIONS",
      `is ${minReplications} but the cluster has ${clusterSize} node(s) (this one plus SKYCLAW_PEER_URLS); no write could ever be acknowledged`,
    );
  }
  return {
    nodeId: raw(env, "SKYCLAW_COORDINATOR_NODE_ID") ?? "node-1",
    host,
    port: integer(env, "SKYCLAW_COORDINATOR_PORT", 8787, 0, 65_535),
    dbPath: raw(env, "SKYCLAW_DB_PATH") ?? join(".skyclaw", "coordinator.db"),
    token,
    peerUrls,
    // The default (2) is capped at the cluster size so that a cluster of one can acknowledge writes.
    minReplications: Math.min(minReplications, clusterSize),
    cluster: clusterConfig(env, host, peerUrls, token),
    timings: timings(env),
    idempotencyTtlMs: integer(env, "SKYCLAW_IDEMPOTENCY_TTL_MS", 24 * 3_600_000, 1_000, 30 * 24 * 3_600_000),
    maxBodyBytes: integer(env, "SKYCLAW_MAX_BODY_BYTES", 1_048_576, 1_024, 64 * 1_048_576),
    maxOutputBytes: maxOutputBytes(env),
    metricsPublic: boolean(env, "SKYCLAW_METRICS_PUBLIC"),
    auth,
  };
}

function authConfig(env: Env, legacyToken: string | undefined): AuthConfig {
  const adminToken = raw(env, "SKYCLAW_ADMIN_TOKEN");
  const peerToken = raw(env, "SKYCLAW_PEER_TOKEN");
  const hostJoinToken = raw(env, "SKYCLAW_HOST_JOIN_TOKEN");
  const submitKeys = parseSubmitKeys(env);
  const enabled = [legacyToken, adminToken, peerToken, hostJoinToken].some((secret) => secret !== undefined) || submitKeys.length > 0;
  return { legacyToken, adminToken, peerToken, hostJoinToken, submitKeys, enabled };
}

const SUBMIT_LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `key:label:cap1|cap2[:shell]`, comma-separated. Messages name the entry by position, never the key. */
function parseSubmitKeys(env: Env): SubmitKey[] {
  const name = "SKYCLAW_PUBLIC_API_KEYS";
  const keys: SubmitKey[] = [];
  for (const [index, entry] of list(env, name).entries()) {
    const where = `entry ${index + 1}`;
    const parts = entry.split(":");
    if (parts.length < 3 || parts.length > 4) throw new ConfigError(name, `${where} must look like key:label:cap1|cap2[:shell]`);
    const [key, label, caps, flag] = parts as [string, string, string, string | undefined];
    if (key.length < 8) throw new ConfigError(name, `${where}: the key must be at least 8 characters`);
    if (!SUBMIT_LABEL_PATTERN.test(label)) throw new ConfigError(name, `${where}: label "${label}" must be letters, digits, '.', '_' or '-' (up to 64)`);
    if (flag !== undefined && flag !== "shell") throw new ConfigError(name, `${where}: the optional fourth part must be "shell", got "${flag}"`);
    const capabilities = caps === "" ? [] : caps.split("|").map((cap) => cap.trim());
    for (const cap of capabilities) {
      if (!CAPABILITY_PATTERN.test(cap)) throw new ConfigError(name, `${where}: "${cap}" is not a capability name (lowercase letters, digits, . _ -)`);
    }
    if (keys.some((other) => other.key === key)) throw new ConfigError(name, `${where} repeats the key of an earlier entry`);
    if (keys.some((other) => other.label === label)) throw new ConfigError(name, `${where} repeats the label "${label}" of an earlier entry`);
    keys.push({ key, label, capabilities: [...new Set(capabilities)].sort(), shell: flag === "shell" });
  }
  return keys;
}

function clusterConfig(env: Env, host: string, peerUrls: string[], token: string | undefined): ClusterConfig {
  const join = boolean(env, "SKYCLAW_CLUSTER_JOIN");
  const enabled = peerUrls.length > 0 || join;
  const explicitAdvertise = raw(env, "SKYCLAW_ADVERTISE_URL");
  const wildcard = host === "0.0.0.0" || host === "::" || host === "[::]";
  if (enabled && explicitAdvertise === undefined && wildcard) {
    throw new ConfigError("SKYCLAW_ADVERTISE_URL", `must be set when SKYCLAW_COORDINATOR_HOST is "${host}": peers need an address they can reach`);
  }
  const port = integer(env, "SKYCLAW_COORDINATOR_PORT", 8787, 0, 65_535);
  if (enabled && explicitAdvertise === undefined && port === 0) {
    throw new ConfigError("SKYCLAW_ADVERTISE_URL", "must be set when SKYCLAW_COORDINATOR_PORT is 0 in a cluster: peers need a fixed address");
  }
  const hostPart = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const advertiseUrl = httpUrl("SKYCLAW_ADVERTISE_URL", explicitAdvertise ?? `http://${hostPart}:${port}`);
  if (peerUrls.includes(advertiseUrl)) {
    throw new ConfigError("SKYCLAW_PEER_URLS", `lists this node's own URL (${advertiseUrl}); name only the other coordinators`);
  }
  const peerToken = raw(env, "SKYCLAW_PEER_TOKEN");
  const electionTicks = integer(env, "SKYCLAW_RAFT_ELECTION_TICKS", 10, 2, 1_000);
  const heartbeatTicks = integer(env, "SKYCLAW_RAFT_HEARTBEAT_TICKS", 1, 1, 1_000);
  if (heartbeatTicks >= electionTicks) {
    throw new ConfigError("SKYCLAW_RAFT_HEARTBEAT_TICKS", `must be below SKYCLAW_RAFT_ELECTION_TICKS (${electionTicks}), got ${heartbeatTicks}`);
  }
  return {
    enabled,
    advertiseUrl,
    join,
    peerToken: peerToken ?? token,
    peerTokenFallback: peerToken === undefined && token !== undefined,
    tickMs: integer(env, "SKYCLAW_RAFT_TICK_MS", 50, 5, 10_000),
    electionTicks,
    heartbeatTicks,
    snapshotIntervalEntries: integer(env, "SKYCLAW_SNAPSHOT_INTERVAL", 10_000, 10, 100_000_000),
    snapshotRetainEntries: integer(env, "SKYCLAW_SNAPSHOT_RETAIN", 1_000, 0, 100_000_000),
  };
}

function boolean(env: Env, name: string): boolean {
  const value = raw(env, name)?.toLowerCase();
  if (value === undefined || value === "0" || value === "false" || value === "no") return false;
  if (value === "1" || value === "true" || value === "yes") return true;
  throw new ConfigError(name, `expected true or false, got "${value}"`);
}

function maxOutputBytes(env: Env): number {
  return integer(env, "SKYCLAW_MAX_OUTPUT_BYTES", 1_048_576, 1_024, 1_073_741_824);
}

// ---------------------------------------------------------------------------------------------

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["human", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** How the coordinator, host and dev commands write their event lines (to stderr). */
export interface LogConfig {
  /** Lines below this level are dropped. */
  level: LogLevel;
  /** `human`: `time level message key=value…`; `json`: one JSON object per line. */
  format: LogFormat;
}

export function loadLogConfig(env: Env = process.env): LogConfig {
  return {
    level: oneOf(env, "SKYCLAW_LOG_LEVEL", LOG_LEVELS, "info"),
    format: oneOf(env, "SKYCLAW_LOG_FORMAT", LOG_FORMATS, "human"),
  };
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = raw(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(name, `expected one of ${allowed.join(", ")}, got "${value}"`);
  return value as T;
}

// ---------------------------------------------------------------------------------------------

export interface ClientConfig {
  /** Coordinators to try, in order; the client fails over along this list. */
  coordinatorUrls: string[];
  token: string | undefined;
  requestTimeoutMs: number;
  /** Private key file (SKYCLAW_SIGNING_KEY) with which enqueue commands sign their jobs. */
  signingKeyPath: string | undefined;
}

export function loadClientConfig(env: Env = process.env): ClientConfig {
  const urls = [...list(env, "SKYCLAW_COORDINATOR_URLS"), ...list(env, "SKYCLAW_COORDINATOR_URL")].map((url) =>
    httpUrl(raw(env, "SKYCLAW_COORDINATOR_URLS") ? "SKYCLAW_COORDINATOR_URLS" : "SKYCLAW_COORDINATOR_URL", url),
  );
  const port = integer(env, "SKYCLAW_COORDINATOR_PORT", 8787, 1, 65_535);
  return {
    coordinatorUrls: urls.length > 0 ? [...new Set(urls)] : [`http://127.0.0.1:${port}`],
    token: raw(env, "SKYCLAW_TOKEN"),
    requestTimeoutMs: integer(env, "SKYCLAW_REQUEST_TIMEOUT_MS", 10_000, 100, 600_000),
    signingKeyPath: raw(env, "SKYCLAW_SIGNING_KEY"),
  };
}

// ---------------------------------------------------------------------------------------------

export interface HostConfig {
  client: ClientConfig;
  name: string;
  capabilities: string[];
  maxParallel: number;
  allowedCommands: string[];
  openclawCommand: string;
  stateDir: string;
  maxOutputBytes: number;
  timings: Timings;
  /** Used when a job names no timeout. */
  defaultJobTimeoutMs: number;
  /** Between SIGTERM and SIGKILL when a job is stopped. */
  killGraceMs: number;
  /** The host's own PATH: job commands are resolved on it and jobs get it (a job's env cannot change it). */
  jobPath: string;
  /** LANG given to jobs. */
  jobLang: string;
  /** When not empty, only jobs signed by one of these keys (`ed25519:<base64>`) run; others fail signature_rejected. */
  trustedKeys: string[];
}

export function loadHostConfig(env: Env = process.env): HostConfig {
  return {
    client: loadClientConfig(env),
    name: raw(env, "SKYCLAW_HOST_NAME") ?? hostname(),
    capabilities: capabilities(env, "SKYCLAW_CAPABILITIES", ["shell"]),
    maxParallel: integer(env, "SKYCLAW_MAX_PARALLEL", 1, 1, 1_024),
    allowedCommands: list(env, "SKYCLAW_ALLOWED_COMMANDS"),
    openclawCommand: raw(env, "SKYCLAW_OPENCLAW_COMMAND") ?? "openclaw",
    stateDir: raw(env, "SKYCLAW_HOST_STATE_DIR") ?? join(".skyclaw", "host"),
    maxOutputBytes: maxOutputBytes(env),
    timings: timings(env),
    defaultJobTimeoutMs: integer(env, "SKYCLAW_JOB_TIMEOUT_MS", 3_600_000, 100, 7 * 86_400_000),
    killGraceMs: integer(env, "SKYCLAW_KILL_GRACE_MS", 5_000, 0, 600_000),
    jobPath: raw(env, "PATH") ?? "/usr/local/bin:/usr/bin:/bin",
    jobLang: raw(env, "LANG") ?? "C.UTF-8",
    trustedKeys: trustedKeys(env),
  };
}

function trustedKeys(env: Env): string[] {
  const keys = list(env, "SKYCLAW_TRUSTED_KEYS").map((text) => {
    const key = normalizePublicKey(text);
    if (key === null) throw new ConfigError("SKYCLAW_TRUSTED_KEYS", `"${text}" is not an Ed25519 public key (expected ed25519:<base64>, as printed by skyclaw keys generate)`);
    return key;
  });
  return [...new Set(keys)];
}

// ---------------------------------------------------------------------------------------------

/** Commands a `skyclaw dev` host may run besides SKYCLAW_ALLOWED_COMMANDS: enough to try things out. */
export const DEV_ALLOWED_COMMANDS = ["sh", "bash", "echo", "node", "bun", "openclaw"] as const;

/**
 * `skyclaw dev`: a coordinator on .skyclaw/dev.db plus a local host, in the current directory.
 * The host's coordinator URL is only known once the coordinator listens (the port may be 0), so
 * the caller fills in `host.client.coordinatorUrls`.
 */
export interface DevConfig {
  coordinator: CoordinatorConfig;
  host: HostConfig;
}

export function loadDevConfig(env: Env = process.env): DevConfig {
  const coordinator = loadCoordinatorConfig(env);
  // The dev host talks only to the dev coordinator (whose port may be 0 = any free port).
  const host = loadHostConfig({ ...env, SKYCLAW_COORDINATOR_PORT: undefined, SKYCLAW_COORDINATOR_URL: undefined, SKYCLAW_COORDINATOR_URLS: undefined });
  return {
    coordinator: {
      ...coordinator,
      nodeId: raw(env, "SKYCLAW_COORDINATOR_NODE_ID") ?? "dev",
      dbPath: join(".skyclaw", "dev.db"),
      peerUrls: [],
      minReplications: 1,
      cluster: { ...coordinator.cluster, enabled: false, join: false },
    },
    host: {
      ...host,
      name: raw(env, "SKYCLAW_HOST_NAME") ?? `${hostname()}-dev`,
      // The host itself drops openclaw when the command is not installed.
      capabilities: raw(env, "SKYCLAW_CAPABILITIES") === undefined ? ["shell", "openclaw"] : host.capabilities,
      allowedCommands: [...new Set([...DEV_ALLOWED_COMMANDS, ...host.allowedCommands])],
      stateDir: raw(env, "SKYCLAW_HOST_STATE_DIR") ?? join(".skyclaw", "dev-host"),
    },
  };
}
