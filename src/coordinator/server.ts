/** Starting and stopping a coordinator: the node, its HTTP server and its timers. */
import type { CoordinatorConfig } from "../config";
import { ConfigError } from "../config";
import { createApp } from "./app";
import { CoordinatorNode, type Clock } from "./node";

export interface RunningCoordinator {
  node: CoordinatorNode;
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function startCoordinator(config: CoordinatorConfig, clock?: Clock): RunningCoordinator {
  if (config.peerUrls.length > 0) {
    throw new ConfigError(
      "SKYCLAW_PEER_URLS",
      "replicated coordinators are not available in this version yet; unset it to run a single coordinator",
    );
  }
  const node = new CoordinatorNode(config, clock);
  const app = createApp(node);
  // Long polls hold a connection for up to claimWaitMs; Bun's idle timeout must outlast them.
  const idleTimeout = Math.min(255, Math.ceil(config.timings.claimWaitMs / 1000) + 30);
  try {
    // Bun's own cap is a backstop for bodies sent without content-length; with one, the app
    // answers 413 itself in the API's JSON shape (Bun's answer has an empty body).
    app.listen({ hostname: config.host, port: config.port, maxRequestBodySize: config.maxBodyBytes * 2, idleTimeout });
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
