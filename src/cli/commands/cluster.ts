/** `skyclaw cluster status|join|leave|transfer`: the coordinator cluster's membership. */
import { defineCommand } from "citty";
import type { ClusterChangeResponse, ClusterStatus } from "../../api";
import { cliClient } from "../cli-client";
import { UsageError } from "../errors";
import { json, table } from "../format";
import { writeOut } from "../output";

function statusText(status: ClusterStatus): string {
  const rows = status.members.map((member) => [
    member.url,
    member.role,
    member.leader ? "leader" : "",
    member.match === null ? "-" : String(member.match),
  ]);
  const summary = `leader ${status.leader ?? "none"} · term ${status.term} · commit ${status.commit} · applied ${status.applied} (answered by ${status.self}, ${status.role})`;
  return `${table(["MEMBER", "ROLE", "", "MATCH"], rows)}\n${summary}`;
}

function memberUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("scheme");
    return url.origin + url.pathname.replace(/\/+$/, "");
  } catch {
    throw new UsageError(`"${value}" is not a coordinator URL (expected e.g. http://10.0.0.4:8787)`);
  }
}

const statusCommand = defineCommand({
  meta: { name: "status", description: "Show the members, the leader, the term and the replication progress" },
  args: { json: { type: "boolean", description: "Print JSON" } },
  async run({ args }) {
    const status = await cliClient().http.request<ClusterStatus>("GET", "/v1/cluster");
    await writeOut(args.json ? `${json(status)}\n` : `${statusText(status)}\n`);
    return 0;
  },
});

function changeCommand(name: "join" | "leave" | "transfer", description: string) {
  return defineCommand({
    meta: { name, description },
    args: {
      url: { type: "positional", required: true, description: "The coordinator's advertised URL (its SKYCLAW_ADVERTISE_URL)" },
      json: { type: "boolean", description: "Print JSON" },
    },
    async run({ args }) {
      const url = memberUrl(args.url);
      const answer = await cliClient().http.request<ClusterChangeResponse>("POST", `/v1/cluster/${name}`, { body: { url } });
      await writeOut(args.json ? `${json(answer)}\n` : `${answer.message}\n${statusText(answer.status)}\n`);
      return 0;
    },
  });
}

export const clusterCommand = defineCommand({
  meta: { name: "cluster", description: "Show (default) or change the coordinator cluster's membership" },
  default: "status",
  subCommands: {
    status: statusCommand,
    join: changeCommand("join", "Add a coordinator started with SKYCLAW_CLUSTER_JOIN=true (a learner, then a voter once caught up)"),
    leave: changeCommand("leave", "Remove a coordinator from the cluster (transfer leadership away from it first)"),
    transfer: changeCommand("transfer", "Hand leadership to another voter"),
  },
});
