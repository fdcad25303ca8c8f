/**
 * Membership: `GET /v1/cluster` (this node's view), and on the leader (followers forward)
 * `POST /v1/cluster/join` (add as learner; the leader promotes it to voter once caught up),
 * `/leave` (remove) and `/transfer` (hand leadership to a voter).
 */
import { Elysia } from "elysia";
import { ClusterMemberBody, type ClusterChangeResponse, type ClusterStatus } from "../../api";
import { HttpError } from "../http-errors";
import type { ClusterRuntime } from "./cluster-runtime";
import { toHttpError } from "./refusals";

const TRANSFER_WAIT_MS = 3_000;

export function clusterRoutes(runtime: ClusterRuntime | undefined) {
  const requireCluster = (): ClusterRuntime => {
    if (runtime === undefined) {
      throw new HttpError(409, { error: "not_clustered", message: "this coordinator runs alone: start it with SKYCLAW_PEER_URLS (or SKYCLAW_CLUSTER_JOIN=true) to form a cluster" });
    }
    return runtime;
  };
  const change = async (cluster: ClusterRuntime, message: string, action: () => Promise<void>): Promise<ClusterChangeResponse> => {
    try {
      await action();
    } catch (error) {
      throw toHttpError(error);
    }
    return { ok: true, message, status: cluster.status() };
  };

  return new Elysia()
    .get("/v1/cluster", (): ClusterStatus => requireCluster().status(), {
      detail: { summary: "Cluster members, leader, term, commit and applied index", tags: ["cluster"] },
    })
    .post(
      "/v1/cluster/join",
      ({ body }) => {
        const cluster = requireCluster();
        const url = memberUrl(body.url);
        return change(cluster, `${url} joined as a learner; it becomes a voter once it has caught up`, () =>
          cluster.proposer.changeMembership({ type: "addLearner", node: url }),
        );
      },
      { body: ClusterMemberBody, detail: { summary: "Add a coordinator as a learner; it is promoted once caught up", tags: ["cluster"] } },
    )
    .post(
      "/v1/cluster/leave",
      ({ body }) => {
        const cluster = requireCluster();
        const url = memberUrl(body.url);
        return change(cluster, `${url} was removed from the cluster`, () => cluster.proposer.changeMembership({ type: "remove", node: url }));
      },
      { body: ClusterMemberBody, detail: { summary: "Remove a coordinator from the cluster", tags: ["cluster"] } },
    )
    .post(
      "/v1/cluster/transfer",
      ({ body }) => {
        const cluster = requireCluster();
        const url = memberUrl(body.url);
        return change(cluster, `leadership moved to ${url}`, () => transfer(cluster, url));
      },
      { body: ClusterMemberBody, detail: { summary: "Move leadership to another voter", tags: ["cluster"] } },
    );
}

/** Starts the transfer and waits (briefly) until this node is no longer the leader. */
function transfer(cluster: ClusterRuntime, url: string): Promise<void> {
  cluster.proposer.transferLeadership(url);
  if (url === cluster.self) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const finish = (error?: Error) => {
      clearTimeout(timer);
      unsubscribe();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new HttpError(504, { error: "transfer_timeout", message: `${url} did not take over within ${TRANSFER_WAIT_MS} ms; is it up and caught up?` })),
      TRANSFER_WAIT_MS,
    );
    const unsubscribe = cluster.proposer.onSoftState((soft) => {
      if (soft.leader === url) finish();
      else if (soft.role !== "leader" && soft.leader !== null) finish();
    });
  });
}

/** The same spelling the config gives peer URLs, so ids compare equal. */
function memberUrl(value: string): string {
  try {
    const url = new URL(value);
    return url.origin + url.pathname.replace(/\/+$/, "");
  } catch {
    throw HttpError.badRequest("url", `"${value}" is not a URL (expected e.g. http://10.0.0.4:8787)`);
  }
}

