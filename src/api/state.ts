/** The `GET /v1/state` summary: what a person or a dashboard wants at a glance. */
import { t, type Static } from "elysia";
import { JsonInteger } from "./common";
import { Host } from "./hosts";

export const ClusterState = t.Object({
  nodeId: t.String(),
  version: t.String(),
  role: t.String({ description: "leader, follower or candidate; a single coordinator is always leader" }),
  lastApplied: JsonInteger(),
  jobs: t.Record(t.String(), JsonInteger(), { description: "job count by state" }),
  queueByCapabilities: t.Array(t.Object({ requires: t.Array(t.String()), queued: JsonInteger() })),
  hosts: t.Array(Host),
});
export type ClusterState = Static<typeof ClusterState>;
