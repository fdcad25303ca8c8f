/** Starting and stopping a coordinator: the node, its HTTP server and its timers. */
import type { CoordinatorConfig } from "../config";
import { createApp } from "./app";
import { ClusterRuntime } from "./cluster/cluster-runtime";
import { CoordinatorNode, type Clock } from "./node";

const BUN_BODY_BACKSTOP_BYTES = 4 * 1_073_741_824;

export interface RunningCoordinator {
  node: CoordinatorNode;
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function startCoordinator(config: CoordinatorConfig, clock?: Clock): RunningCoordinator {
  // A cluster runs the Raft driver; a coordinator alone keeps the local log (for now: see ARCHITECTURE.md).
  const cluster = config.cluster.enabled ? new ClusterRuntime(config) : undefined;
  if (cluster !== undefined && config.cluster.peerTokenFallback) {
    console.error(
      "skyclaw coordinator: warning: SKYCLAW_PEER_TOKEN is unset, so coordinators authenticate each other with SKYCLAW_TOKEN, which hosts and clients hold too; set a separate SKYCLAW_PEER_TOKEN on every coordinator",
    );
  }
  if (config.auth.legacyToken !== undefined) {
    console.error(
      "skyclaw coordinator: warning: SKYCLAW_TOKEN grants every role (admin, peer, submit, host); give each its own secret instead: SKYCLAW_ADMIN_TOKEN, SKYCLAW_PEER_TOKEN, SKYCLAW_PUBLIC_API_KEYS (key:label:cap1|cap2[:shell]) and SKYCLAW_HOST_JOIN_TOKEN",
    );
  }
  let node: CoordinatorNode;
  try {
    node = new CoordinatorNode(config, clock, cluster?.log);
  } catch (error) {
    cluster?.close();
    throw error;
  }
  cluster?.attach(node);
  const app = createApp(node, cluster);
  // Long polls hold a connection for up to claimWaitMs; Bun's idle timeout must outlast them.
  const idleTimeout = Math.min(255, Math.ceil(config.timings.claimWaitMs / 1000) + 30);
  try {
    // The app refuses oversized and chunked bodies itself, from the headers, in the API's JSON
    // shape. Bun's own cap would answer first with an empty 413, so it is set far above ours and
    // is only a backstop.
    app.listen({ hostname: config.host, port: config.port, maxRequestBodySize: BUN_BODY_BACKSTOP_BYTES, idleTimeout });
  } catch (error) {
    node.close();
    throw error;
  }
  node.startTimers();
  const server = app.server!;
  const port = server.port!;
  const host = config.host.includes(":") && !config.host.startsWith("[") ? `[${config.host}]` : config.host;
  return {
    node,
    url: `http://${host}:${port}`,
    port,
    async stop() {
      node.waiters.wakeAll();
      await server.stop(true);
      node.close();
    },
  };
}
