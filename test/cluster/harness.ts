/**
 * Real coordinator clusters on 127.0.0.1 for tests and benches.
 *
 *   const cluster = await startCluster({ size: 3, env: { SKYCLAW_SNAPSHOT_INTERVAL: "50" } });
 *   const leader = await cluster.leader();            // polls GET /v1/cluster until one node leads
 *   await cluster.nodes[1]!.call("POST", "/v1/jobs", { body, idempotencyKey });
 *   await leader.kill9();                             // SIGKILL, wait for exit
 *   await leader.start();                             // same port, same files: a restart
 *   await cluster.stopAll();                          // or killAll() from ../helpers/processes
 *
 * `startCluster` picks free ports first (every node must know its peers' addresses before any
 * starts), gives each node its own directory, and starts them all with SKYCLAW_PEER_URLS naming
 * the others and SKYCLAW_ADVERTISE_URL its own URL. Nodes are processes started by
 * test/helpers/processes.ts, so `killAll()` in afterAll cleans them up by PID.
 *
 * ClusterNode: url, port, dbPath, pid (null when not running), running, start(), stop() (SIGTERM),
 * kill9(), signal(sig) (e.g. SIGSTOP/SIGCONT), call(method, path, options), status() (GET /v1/cluster),
 * stderr() (text of the current or last process).
 * Cluster: nodes, urls, leader(timeoutMs?), followers(), waitUntil(condition, what, timeoutMs?),
 * clientEnv() (SKYCLAW_COORDINATOR_URLS and token for the CLI or a host), stopAll().
 */
import { join } from "node:path";
import type { ClusterStatus } from "../../src/api";
import { startCoordinatorProcess, tempDir, type CoordinatorProcess } from "../helpers/processes";

export const CLUSTER_TOKEN = "cluster-test-token";
export const PEER_TOKEN = "cluster-test-peer-token";

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  idempotencyKey?: string;
  /** Send this token instead of the cluster's client token (undefined: the client token). */
  token?: string | null;
  timeoutMs?: number;
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export class ClusterNode {
  private current: CoordinatorProcess | null = null;
  private lastStderr = "";

  constructor(
    readonly url: string,
    readonly port: number,
    readonly dbPath: string,
    private readonly env: Record<string, string>,
  ) {}

  get running(): boolean {
    return this.current !== null;
  }

  get pid(): number | null {
    return this.current?.pid ?? null;
  }

  async start(extraEnv: Record<string, string> = {}): Promise<void> {
    if (this.current !== null) throw new Error(`${this.url} is already running`);
    this.current = await startCoordinatorProcess({ dbPath: this.dbPath, env: { ...this.env, ...extraEnv } });
  }

  async stop(): Promise<number> {
    const process = this.take();
    const code = await process.stop();
    this.lastStderr = process.stderr();
    return code;
  }

  async kill9(): Promise<void> {
    const process = this.take();
    await process.kill9();
    this.lastStderr = process.stderr();
  }

  signal(signal: "SIGSTOP" | "SIGCONT"): void {
    if (this.current === null) throw new Error(`${this.url} is not running`);
    process.kill(this.current.pid, signal);
  }

  stderr(): string {
    return this.current?.stderr() ?? this.lastStderr;
  }

  async call<T = any>(method: string, path: string, options: CallOptions = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? CLUSTER_TOKEN : options.token;
    if (token !== null) headers["x-skyclaw-token"] = token;
    if (options.idempotencyKey !== undefined) headers["x-idempotency-key"] = options.idempotencyKey;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const text = await response.text();
    return { status: response.status, body: (text === "" ? null : JSON.parse(text)) as T, headers: response.headers };
  }

  async status(): Promise<ClusterStatus> {
    const reply = await this.call<ClusterStatus>("GET", "/v1/cluster", { timeoutMs: 2_000 });
    if (reply.status !== 200) throw new Error(`${this.url} answered GET /v1/cluster with ${reply.status}: ${JSON.stringify(reply.body)}`);
    return reply.body;
  }

  private take(): CoordinatorProcess {
    const process = this.current;
    if (process === null) throw new Error(`${this.url} is not running`);
    this.current = null;
    return process;
  }
}

export interface Cluster {
  nodes: ClusterNode[];
  urls: string[];
  /** The node that says it leads and whose leadership the other running nodes agree on. */
  leader(timeoutMs?: number): Promise<ClusterNode>;
  followers(leader: ClusterNode): ClusterNode[];
  /** Polls `condition` until true (there is no event to await across processes). */
  waitUntil(condition: () => Promise<boolean> | boolean, what: string, timeoutMs?: number): Promise<void>;
  clientEnv(): Record<string, string>;
  stopAll(): Promise<void>;
}

/** Ports free right now (held open together so they are distinct, then released). */
export function freePorts(count: number): number[] {
  const servers = Array.from({ length: count }, () => Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }));
  const ports = servers.map((server) => server.port);
  for (const server of servers) server.stop(true);
  return ports;
}

export async function startCluster(options: { size: number; env?: Record<string, string>; start?: boolean } = { size: 3 }): Promise<Cluster> {
  const dir = tempDir("skyclaw-cluster-");
  const ports = freePorts(options.size);
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const nodes = ports.map((port, i) => {
    const url = urls[i]!;
    return new ClusterNode(url, port, join(dir, `node-${i + 1}`, "coordinator.db"), {
      SKYCLAW_COORDINATOR_NODE_ID: `node-${i + 1}`,
      SKYCLAW_COORDINATOR_PORT: String(port),
      SKYCLAW_ADVERTISE_URL: url,
      SKYCLAW_PEER_URLS: urls.filter((other) => other !== url).join(","),
      SKYCLAW_TOKEN: CLUSTER_TOKEN,
      SKYCLAW_PEER_TOKEN: PEER_TOKEN,
      SKYCLAW_LEASE_MS: "5000",
      SKYCLAW_HEARTBEAT_MS: "500",
      SKYCLAW_CLAIM_WAIT_MS: "2000",
      ...options.env,
    });
  });
  if (options.start !== false) await Promise.all(nodes.map((node) => node.start()));

  const waitUntil = async (condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await condition()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await Bun.sleep(25);
    }
  };

  return {
    nodes,
    urls,
    async leader(timeoutMs = 10_000) {
      let found: ClusterNode | undefined;
      await waitUntil(
        async () => {
          const running = nodes.filter((node) => node.running);
          const statuses = await Promise.all(running.map((node) => node.status().catch(() => null)));
          const leaders = statuses.filter((status) => status?.role === "leader");
          if (leaders.length !== 1) return false;
          const leaderUrl = leaders[0]!.self;
          const agreeing = statuses.filter((status) => status?.leader === leaderUrl).length;
          if (agreeing * 2 <= running.length) return false;
          found = nodes.find((node) => node.url === leaderUrl);
          return found !== undefined;
        },
        "a leader",
        timeoutMs,
      );
      return found!;
    },
    followers: (leader) => nodes.filter((node) => node !== leader && node.running),
    waitUntil,
    clientEnv: () => ({ SKYCLAW_COORDINATOR_URLS: urls.join(","), SKYCLAW_TOKEN: CLUSTER_TOKEN }),
    async stopAll() {
      await Promise.all(nodes.filter((node) => node.running).map((node) => node.kill9()));
    },
  };
}
