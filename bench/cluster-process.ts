/**
 * A 3-coordinator Raft cluster for the bench: three `bun` coordinator processes (started like
 * the single bench coordinator, on fresh databases under .bench/), each naming the others in
 * SKYCLAW_PEER_URLS, with default Raft and lease timings. Ports are chosen before any starts,
 * since every node must know its peers' addresses. No secrets, like the single bench
 * coordinator: on loopback the load generators send no token, and a peer secret alone would
 * turn authentication on for them.
 */
import { startBenchCoordinator, type BenchCoordinator } from "./coordinator-process";

export interface BenchCluster {
  urls: string[];
  /** Index of the node that leads and that the other running nodes follow; waits for one. */
  leader(timeoutMs?: number): Promise<number>;
  /** CPU seconds used by all running nodes together. */
  cpuSeconds(): number;
  /** CPU seconds used by each node (0 for a stopped one), in the order of `urls`. */
  cpuSecondsByNode(): number[];
  /** SIGKILL one node and wait until it is gone. */
  kill9(index: number): Promise<void>;
  stop(): Promise<void>;
}

interface ClusterStatusReply {
  self: string;
  role: string;
  leader: string | null;
}

/** `cliEntry`: another checkout's src/cli/main.ts, to compare two versions side by side. */
export async function startBenchCluster(name: string, size = 3, cliEntry?: string): Promise<BenchCluster> {
  const ports = freePorts(size);
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const nodes: (BenchCoordinator | null)[] = await Promise.all(
    urls.map((url, i) =>
      startBenchCoordinator(`${name}-node-${i + 1}`, {
        SKYCLAW_COORDINATOR_PORT: String(ports[i]),
        SKYCLAW_ADVERTISE_URL: url,
        SKYCLAW_PEER_URLS: urls.filter((other) => other !== url).join(","),
      }, cliEntry),
    ),
  );

  const status = async (i: number): Promise<ClusterStatusReply | null> => {
    if (nodes[i] === null) return null;
    try {
      const response = await fetch(`${urls[i]}/v1/cluster`, { signal: AbortSignal.timeout(1_000) });
      return response.ok ? ((await response.json()) as ClusterStatusReply) : null;
    } catch {
      return null;
    }
  };

  return {
    urls,
    async leader(timeoutMs = 15_000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const statuses = await Promise.all(urls.map((_, i) => status(i)));
        const leaders = statuses.filter((reply) => reply?.role === "leader");
        const running = nodes.filter((node) => node !== null).length;
        if (leaders.length === 1) {
          const agreeing = statuses.filter((reply) => reply?.leader === leaders[0]!.self).length;
          if (agreeing * 2 > running) return urls.indexOf(leaders[0]!.self);
        }
        if (performance.now() > deadline) throw new Error(`no leader within ${timeoutMs} ms`);
        // Polled: there is no event to await across processes.
        await Bun.sleep(20);
      }
    },
    cpuSeconds: () => nodes.reduce((sum, node) => sum + (node === null ? 0 : node.cpuSeconds()), 0),
    cpuSecondsByNode: () => nodes.map((node) => (node === null ? 0 : node.cpuSeconds())),
    async kill9(index) {
      const node = nodes[index];
      if (node === null || node === undefined) return;
      nodes[index] = null;
      process.kill(node.pid, "SIGKILL");
      await node.stop();
    },
    async stop() {
      await Promise.all(nodes.map((node) => node?.stop()));
      nodes.fill(null);
    },
  };
}

/** Ports free right now (held open together so they are distinct, then released). */
function freePorts(count: number): number[] {
  const servers = Array.from({ length: count }, () => Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }));
  const ports = servers.map((server) => server.port);
  for (const server of servers) server.stop(true);
  return ports;
}
