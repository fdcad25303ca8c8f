/** `skyclaw hosts [list]` and `skyclaw hosts drain <id>`. */
import { defineCommand } from "citty";
import { cliClient } from "../cli-client";
import { hostsTable, json } from "../format";
import { writeOut } from "../output";

const listCommand = defineCommand({
  meta: { name: "list", description: "List registered hosts" },
  args: { json: { type: "boolean", description: "Print JSON" } },
  async run({ args }) {
    const { hosts } = await cliClient().listHosts();
    if (args.json) await writeOut(`${json({ hosts })}\n`);
    else await writeOut(hosts.length === 0 ? "no hosts\n" : `${hostsTable(hosts)}\n`);
    return 0;
  },
});

const drainCommand = defineCommand({
  meta: { name: "drain", description: "Ask a host to stop claiming jobs, finish the ones it runs, and exit" },
  args: { id: { type: "positional", required: true, description: "Host id" }, json: { type: "boolean", description: "Print JSON" } },
  async run({ args }) {
    const host = await cliClient().drainHost(args.id);
    await writeOut(args.json ? `${json(host)}\n` : `${host.id}: ${host.state}\n`);
    return 0;
  },
});

export const hostsCommand = defineCommand({
  meta: { name: "hosts", description: "List hosts (default) or drain one" },
  default: "list",
  subCommands: { list: listCommand, drain: drainCommand },
});
