import { defineCommand } from "citty";
import { loadDevConfig } from "../../config";
import { startCoordinator } from "../../coordinator/server";
import { startHost } from "../../host/daemon";
import { runHostUntilStopped } from "../host-signals";

const log = (line: string) => process.stderr.write(`${line}\n`);

export const devCommand = defineCommand({
  meta: {
    name: "dev",
    description:
      "Run a coordinator on .skyclaw/dev.db and a local host in one process, to try Skyclaw on one machine",
  },
  async run() {
    const config = loadDevConfig();
    const coordinator = startCoordinator(config.coordinator);
    try {
      const host = await startHost(
        { ...config.host, client: { ...config.host.client, coordinatorUrls: [coordinator.url] } },
        { log },
      );
      const urlHint = coordinator.port === 8787 ? "" : `SKYCLAW_COORDINATOR_URL=${coordinator.url} `;
      log(
        `skyclaw dev: coordinator listening on ${coordinator.url} (db ${config.coordinator.dbPath}), host ${host.hostId} running jobs here`,
      );
      log(`try: ${urlHint}skyclaw enqueue-shell --wait bash -lc "echo hello from skyclaw"`);
      await runHostUntilStopped(host, log);
    } finally {
      await coordinator.stop();
    }
    return 0;
  },
});
