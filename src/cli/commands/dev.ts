import { defineCommand } from "citty";
import { loadDevConfig, loadLogConfig } from "../../config";
import { startCoordinator } from "../../coordinator/server";
import { startHost, type HostStopCause } from "../../host/daemon";
import { EXIT_HOST_REVOKED } from "../../host/revocation";
import { log } from "../../log";
import { runHostUntilStopped } from "../host-signals";

export const devCommand = defineCommand({
  meta: {
    name: "dev",
    description:
      "Run a coordinator on .skyclaw/dev.db and a local host in one process, to try Skyclaw on one machine (exits 3 when its host is revoked)",
  },
  async run() {
    log.configure(loadLogConfig());
    const config = loadDevConfig();
    const coordinator = startCoordinator(config.coordinator);
    const hostLog = log.lines("info");
    let cause: HostStopCause;
    try {
      const hostConfig = { ...config.host, client: { ...config.host.client, coordinatorUrls: [coordinator.url] } };
      const urlHint = coordinator.port === 8787 ? "" : `SKYCLAW_COORDINATOR_URL=${coordinator.url} `;
      // A revoked host has already logged why it stopped; the coordinator then stops too, as
      // `skyclaw host` would exit, so a supervisor sees the same exit code 3.
      cause = await runHostUntilStopped(
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
    return cause === "revoked" ? EXIT_HOST_REVOKED : 0;
  },
});
