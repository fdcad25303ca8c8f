import { defineCommand } from "citty";
import { loadHostConfig } from "../../config";
import { startHost } from "../../host/daemon";
import { runHostUntilStopped } from "../host-signals";

const log = (line: string) => process.stderr.write(`${line}\n`);

export const hostCommand = defineCommand({
  meta: {
    name: "host",
    description:
      "Run a host that claims and runs jobs (SIGTERM drains; a second SIGTERM or SIGINT stops running jobs)",
  },
  async run() {
    const host = await startHost(loadHostConfig(), { log });
    await runHostUntilStopped(host, log);
    return 0;
  },
});
