/** The `GET /v1/state` summary: what a person or a dashboard wants at a glance. */
import { t, type Static } from "elysia";
import { Host } from "./hosts";

export const ClusterState = t.Object({
  nodeId: t.String(),
  version: t.String(),
  role: t.String({ description: "leader, follower or candidate; a single coordinator is always leader" }),
  lastApplied: t.Integer(),
  jobs: t.Record(t.String(), t.Integer(), { description: "job count by state" }),
  queueByCapabilities: t.Array(t.Object({ requires: t.Array(t.String()), queued: t.Integer() })),
  hosts: t.Array(Host),
});
export type ClusterState = Static<typeof ClusterState>;
