/** The app's two cluster hooks: replication before client auth, leader routing after it. */
import { pathOf } from "../request-path";
import type { ClusterRuntime } from "./cluster-runtime";
import { routeToLeader } from "./leader-routing";
import { handleReplication, isReplicationPath } from "./replication-gate";

type Hook = (context: { request: Request }) => Promise<Response | undefined> | undefined;

/** Answers /v1/replicate/* (peer secret, no client body limit); passes everything else on. */
export function replicationHook(cluster: ClusterRuntime | undefined): Hook {
  return ({ request }) => {
    if (cluster === undefined) return undefined;
    const path = pathOf(request);
    if (!isReplicationPath(path)) return undefined;
    return handleReplication(request, path, cluster).then((response) => response ?? undefined);
  };
}

/** Forwards to the leader, waits for one, or makes the leader's reads linearizable. */
export function leaderHook(cluster: ClusterRuntime | undefined): Hook {
  return ({ request }) => {
    if (cluster === undefined) return undefined;
    // Most requests: a write on the leader, served here (reads wait for a read index, and a
    // follower forwards everything).
    if (request.method !== "GET" && cluster.proposer.leader() === cluster.self) return undefined;
    return routeToLeader(request, pathOf(request), cluster).then((response) => response ?? undefined);
  };
}
