import { defineCommand } from "citty";
import { loadDevConfig, loadLogConfig } from "../../config";
import { startCoordinator } from "../../coordinator/server";
import { startHost } from "../../host/daemon";
import { log } from "../../log";
import { runHostUntilStopped } from "../host-signals";

export const devCommand = defineCommand({
  meta: {
    name: "dev",
    description:
      "Run a coordinator on .skyclaw/dev.db and a local host in one process, to try Skyclaw on one machine",
  },
  async run() {
    log.configure(loadLogConfig());
    const config = loadDevConfig();
    const coordinator = startCoordinator(config.coordinator);
    const hostLog = log.lines("info");
    try {
      const hostConfig = { ...config.host, client: { ...config.host.client, coordinatorUrls: [coordinator.url] } };
      const urlHint = coordinator.port === 8787 ? "" : `SKYCLAW_COORDINATOR_URL=${coordinator.url} `;
      await runHostUntilStopped(
        () => startHost(hostConfig, { log: hostLog }),
        hostLog,
        (host) => {
          log.info(`skyclaw dev: coordinator listening on ${coordinator.url}, host ${host.hostId} running jobs here`, {
            url: coordinator.url,
            db: config.coordinator.dbPath,
            host: host.hostId,
          });
          log.info(`try: ${urlHint}skyclaw enqueue-shell --wait bash -lc "echo hello from skyclaw"`);
        },
      );
    } finally {
      await coordinator.stop();
    }
    return 0;
  },
});
