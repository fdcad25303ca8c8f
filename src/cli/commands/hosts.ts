/** `skyclaw hosts [list]`, `skyclaw hosts drain <id>` and `skyclaw hosts revoke <id>`. */
import { defineCommand } from "citty";
import { cliClient } from "../cli-client";
import { hostState, hostsTable, json } from "../format";
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
    await writeOut(args.json ? `${json(host)}\n` : `${host.id}: ${hostState(host)}\n`);
    return 0;
  },
});

const revokeCommand = defineCommand({
  meta: { name: "revoke", description: "End a host's credential (admin): its calls are refused and its jobs are requeued" },
  args: { id: { type: "positional", required: true, description: "Host id" }, json: { type: "boolean", description: "Print JSON" } },
  async run({ args }) {
    const revoked = await cliClient().revokeHost(args.id);
    if (args.json) await writeOut(`${json(revoked)}\n`);
    else {
      const jobs = [...revoked.requeued.map((id) => `${id} requeued`), ...revoked.cancelled.map((id) => `${id} cancelled`)];
      await writeOut(`${revoked.host.id}: revoked${jobs.length === 0 ? "" : `; ${jobs.join(", ")}`}\n`);
    }
    return 0;
  },
});

export const hostsCommand = defineCommand({
  meta: { name: "hosts", description: "List hosts (default), drain or revoke one" },
  default: "list",
  subCommands: { list: listCommand, drain: drainCommand, revoke: revokeCommand },
});
