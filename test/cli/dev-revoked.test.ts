/**
 * `skyclaw dev` whose host is revoked behaves like `skyclaw host`: it logs the revocation once,
 * stops its coordinator (the port is closed afterwards) and exits 3.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { isGone, killAll, runCli, startCli, tempDir } from "../helpers/processes";

afterAll(killAll);
// bunfig's [test] timeout is not applied by bun 1.4.5; these tests spawn real processes.
setDefaultTimeout(30_000);

test("revoking the dev host with `skyclaw hosts revoke` makes `skyclaw dev` log why, stop its coordinator and exit 3", async () => {
  const dev = startCli(["dev"], { cwd: tempDir("skyclaw-dev-"), env: { SKYCLAW_COORDINATOR_PORT: "0", SKYCLAW_HEARTBEAT_MS: "200" } });
  const url = await dev.stderr.waitFor(/try: SKYCLAW_COORDINATOR_URL=(\S+) skyclaw enqueue-shell --wait /, 15_000);
  const hostId = await dev.stderr.waitFor(/coordinator listening on \S+, host (\S+) running jobs here/, 1_000);

  const revoked = await runCli(["hosts", "revoke", hostId], { env: { SKYCLAW_COORDINATOR_URL: url } });
  expect(revoked.stderr).toBe("");
  expect(revoked.stdout).toBe(`${hostId}: revoked\n`);
  expect(revoked.exitCode).toBe(0);

  expect(await dev.exited).toBe(3);
  expect(isGone(dev.pid)).toBe(true);
  expect(dev.stderr.text().match(new RegExp(`host ${hostId} was revoked by the coordinator; exiting`, "g"))).toHaveLength(1);
  // The coordinator stopped with the process: nothing answers on its port any more.
  await expect(fetch(`${url}/v1/state`)).rejects.toThrow();
});
