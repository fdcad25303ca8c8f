/** Health and the state summary. */
import { Elysia } from "elysia";
import type { ClusterState, Health } from "../../api";
import { jobCountsByState, lastApplied, listHosts, queueByRequirements } from "../../state/queries";
import { VERSION } from "../../version";
import type { CoordinatorNode } from "../node";

export function systemRoutes(node: CoordinatorNode) {
  return new Elysia()
    .get("/health", (): Health => ({ ok: true, nodeId: node.config.nodeId, version: VERSION }), {
      detail: { summary: "Liveness check (no token needed)", tags: ["system"], security: [] },
    })
    .get(
      "/v1/state",
      (): ClusterState => ({
        nodeId: node.config.nodeId,
        version: VERSION,
        role: node.log.role(),
        lastApplied: lastApplied(node.db),
        jobs: jobCountsByState(node.db),
        queueByCapabilities: queueByRequirements(node.db),
        hosts: listHosts(node.db),
      }),
      { detail: { summary: "State summary: role, last applied index, job counts, queue, hosts", tags: ["system"] } },
    );
}
