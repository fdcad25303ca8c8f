import { defineCommand } from "citty";
import { loadCoordinatorConfig, loadLogConfig } from "../../config";
import { startCoordinator } from "../../coordinator/server";
import { log } from "../../log";
import { untilSignal } from "../signals";

export const coordinatorCommand = defineCommand({
  meta: {
    name: "coordinator",
    description: "Run a coordinator: job queue, host registry and leases in SQLite (configured by SKYCLAW_* variables)",
  },
  async run() {
    log.configure(loadLogConfig());
    const config = loadCoordinatorConfig();
    // Installed before "listening" is printed: a supervisor may send SIGTERM the moment it reads
    // it, and until a handler is in place SIGTERM ends the process without a clean stop.
    const signalled = untilSignal();
    const coordinator = startCoordinator(config);
    log.info(`coordinator ${config.nodeId} listening on ${coordinator.url}`, {
      node: config.nodeId,
      url: coordinator.url,
      db: config.dbPath,
      auth: config.token === undefined ? "none (loopback only)" : "token",
    });
    await signalled;
    await coordinator.stop();
  },
});
