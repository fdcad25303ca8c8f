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
    const coordinator = startCoordinator(config);
    log.info(`coordinator ${config.nodeId} listening on ${coordinator.url}`, {
      node: config.nodeId,
      url: coordinator.url,
      db: config.dbPath,
      auth: config.token === undefined ? "none (loopback only)" : "token",
    });
    await untilSignal();
    await coordinator.stop();
  },
});
