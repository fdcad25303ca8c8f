/**
 * The seed README's quick start, as written: coordinators A and B each naming the other in
 * SKYCLAW_PEER_URLS with SKYCLAW_MIN_REPLICATIONS=2 and no advertise URL (it defaults to
 * http://127.0.0.1:<port>), one shared SKYCLAW_TOKEN, a host given both URLs, and enqueue
 * commands. Free ports stand in for 8787/8788 so the test can run beside anything.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { ClusterStatus } from "../../src/api";
import { killAll, runCli, startCli, startCoordinatorProcess, tempDir } from "../helpers/processes";
import { freePorts } from "./harness";

afterAll(killAll);

test("two coordinators with MIN_REPLICATIONS=2, a host on both URLs, and enqueue-shell --wait", async () => {
  const dir = tempDir("skyclaw-quick-start-");
  const [portA, portB] = freePorts(2) as [number, number];
  const common = { SKYCLAW_TOKEN: "change-me", SKYCLAW_MIN_REPLICATIONS: "2" };
  const [a, b] = await Promise.all([
    startCoordinatorProcess({
      dbPath: join(dir, "node-a.db"),
      env: { ...common, SKYCLAW_COORDINATOR_NODE_ID: "node-a", SKYCLAW_COORDINATOR_PORT: String(portA), SKYCLAW_PEER_URLS: `http://127.0.0.1:${portB}` },
    }),
    startCoordinatorProcess({
      dbPath: join(dir, "node-b.db"),
      env: { ...common, SKYCLAW_COORDINATOR_NODE_ID: "node-b", SKYCLAW_COORDINATOR_PORT: String(portB), SKYCLAW_PEER_URLS: `http://127.0.0.1:${portA}` },
    }),
  ]);
  const clientEnv = { SKYCLAW_TOKEN: "change-me", SKYCLAW_COORDINATOR_URLS: `${a.url},${b.url}` };
  const host = startCli(["host"], {
    env: { ...clientEnv, SKYCLAW_CAPABILITIES: "shell", SKYCLAW_ALLOWED_COMMANDS: "bash,sh", SKYCLAW_HOST_STATE_DIR: join(dir, "host") },
  });
  await host.stderr.waitFor(/registered as/, 15_000);

  const result = await runCli(["enqueue-shell", "--wait", "bash", "-lc", "echo hello from decentralized skyclaw"], { env: clientEnv });
  expect(result.stdout).toBe("hello from decentralized skyclaw\n");
  expect(result.exitCode).toBe(0);

  const status = await runCli(["cluster", "status", "--json"], { env: clientEnv });
  expect(status.exitCode).toBe(0);
  const cluster = JSON.parse(status.stdout) as ClusterStatus;
  expect(cluster.members.map((member) => member.url).sort()).toEqual([`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`].sort());
  expect(cluster.leader).not.toBeNull();
  // Both nodes apply the finished job (a follower learns the commit with the next heartbeat).
  const localStates = async (url: string) => {
    const response = await fetch(`${url}/v1/jobs?local=true`, { headers: { "x-skyclaw-token": "change-me" } });
    return ((await response.json()) as { jobs: { state: string }[] }).jobs.map((job) => job.state).join(",");
  };
  const deadline = Date.now() + 5_000;
  while ((await localStates(a.url)) !== "succeeded" || (await localStates(b.url)) !== "succeeded") {
    if (Date.now() > deadline) throw new Error(`local states: ${await localStates(a.url)} / ${await localStates(b.url)}`);
    await Bun.sleep(25);
  }
  expect(a.stderr() + b.stderr()).toContain("SKYCLAW_PEER_TOKEN is unset");
}, 30_000);
