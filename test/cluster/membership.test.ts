/**
 * Membership through the CLI: a fourth coordinator started with SKYCLAW_CLUSTER_JOIN=true is
 * joined (learner, then voter once caught up), takes leadership by transfer, and a member is
 * removed with leave.
 */
import { afterAll, expect, test } from "bun:test";
import type { ClusterStatus, Job } from "../../src/api";
import { killAll, runCli } from "../helpers/processes";
import { ClusterNode, freePorts, startCluster, CLUSTER_TOKEN, PEER_TOKEN } from "./harness";

afterAll(killAll);

test("join, transfer and leave", async () => {
  const cluster = await startCluster({ size: 3 });
  const leader = await cluster.leader();
  const [port] = freePorts(1) as [number];
  const url = `http://127.0.0.1:${port}`;
  const newcomer = new ClusterNode(url, port, cluster.nodes[0]!.dbPath.replace("node-1", "node-4"), {
    SKYCLAW_COORDINATOR_PORT: String(port),
    SKYCLAW_ADVERTISE_URL: url,
    SKYCLAW_CLUSTER_JOIN: "true",
    SKYCLAW_TOKEN: CLUSTER_TOKEN,
    SKYCLAW_PEER_TOKEN: PEER_TOKEN,
  });
  await newcomer.start();
  expect((await newcomer.status()).members).toEqual([]);
  const env = cluster.clientEnv();

  const joined = await runCli(["cluster", "join", url], { env });
  expect(joined.stderr).toBe("");
  expect(joined.exitCode).toBe(0);
  expect(joined.stdout).toContain(`${url} joined as a learner`);
  await cluster.waitUntil(
    async () => (await leader.status()).members.some((member) => member.url === url && member.role === "voter"),
    "the newcomer to be promoted to voter",
  );
  const created = await newcomer.call<Job>("POST", "/v1/jobs", { body: { kind: "shell", command: "echo", args: ["via newcomer"] } });
  expect(created.status).toBe(201);

  const again = await runCli(["cluster", "join", url], { env });
  expect(again.exitCode).toBe(1);
  expect(again.stderr).toContain("already a member");

  const transferred = await runCli(["cluster", "transfer", url], { env });
  expect(transferred.exitCode).toBe(0);
  await cluster.waitUntil(async () => (await newcomer.status()).role === "leader", "the newcomer to lead");

  const left = await runCli(["cluster", "leave", leader.url, "--json"], { env });
  expect(left.exitCode).toBe(0);
  const status = (JSON.parse(left.stdout) as { status: ClusterStatus }).status;
  expect(status.members.map((member) => member.url)).not.toContain(leader.url);
  expect(status.members).toHaveLength(3);

  const bad = await runCli(["cluster", "join", "not-a-url"], { env });
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr).toContain("not a coordinator URL");
}, 30_000);
