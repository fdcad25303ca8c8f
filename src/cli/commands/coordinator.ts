import { defineCommand } from "citty";
import { loadCoordinatorConfig } from "../../config";
import { startCoordinator } from "../../coordinator/server";
import { untilSignal } from "../signals";

export const coordinatorCommand = defineCommand({
  meta: {
    name: "coordinator",
    description: "Run a coordinator: job queue, host registry and leases in SQLite (configured by SKYCLAW_* variables)",
  },
  async run() {
    const config = loadCoordinatorConfig();
    const coordinator = startCoordinator(config);
    console.error(
      `skyclaw coordinator ${config.nodeId} listening on ${coordinator.url} (db ${config.dbPath}${config.token === undefined ? ", no token: loopback only" : ""})`,
    );
    await untilSignal();
    await coordinator.stop();
  },
});
