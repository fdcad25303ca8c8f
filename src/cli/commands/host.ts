import { defineCommand } from "citty";
import { loadHostConfig, loadLogConfig } from "../../config";
import { startHost } from "../../host/daemon";
import { EXIT_HOST_REVOKED } from "../../host/revocation";
import { log } from "../../log";
import { runHostUntilStopped } from "../host-signals";

export const hostCommand = defineCommand({
  meta: {
    name: "host",
    description:
      "Run a host that claims and runs jobs (SIGTERM drains; a second SIGTERM or SIGINT stops running jobs; exits 3 when revoked)",
  },
  async run() {
    log.configure(loadLogConfig());
    const hostLog = log.lines("info");
    const config = loadHostConfig();
    const cause = await runHostUntilStopped(() => startHost(config, { log: hostLog }), hostLog);
    return cause === "revoked" ? EXIT_HOST_REVOKED : 0;
  },
});
