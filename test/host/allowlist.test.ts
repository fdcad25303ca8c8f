/**
 * The allowlist matches the executable that would really run. Every escape a job could try
 * (PATH in its env, loader variables, relative paths, symlinks, cwd outside its directory)
 * ends the job failed with a reason, and nothing runs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, symlinkSync, writeFileSync, chmodSync, realpathSync } from "node:fs";
import { join } from "node:path";
import type { EnqueueBody } from "../../src/api";
import { hostConfig, shellJob, startTestCoordinator, startTestHost, stopAll, tempDir, waitForEnd, type TestCoordinator } from "./harness";

let coordinator: TestCoordinator;
let marker: string;
let trap: string;
beforeAll(async () => {
  coordinator = startTestCoordinator();
  // A directory of look-alikes: an "sh" that is really env, and a script that would leave a mark.
  trap = tempDir("skyclaw-trap-");
  marker = join(trap, "it-ran");
  writeFileSync(join(trap, "evil"), `#!/bin/sh\ntouch "${marker}"\n`);
  chmodSync(join(trap, "evil"), 0o755);
  symlinkSync(realpathSync("/usr/bin/env"), join(trap, "sh"));
  await startTestHost(hostConfig(coordinator.url, { SKYCLAW_ALLOWED_COMMANDS: "sh" }));
});
afterAll(stopAll);

async function run(body: EnqueueBody) {
  const job = await coordinator.client.enqueue({ maxAttempts: 1, ...body });
  return waitForEnd(coordinator.client, job.id);
}

describe("refused with reason not_allowed", () => {
  test("a command not on the list, with a message naming it and the list", async () => {
    const done = await run({ kind: "shell", command: "env" });
    expect(done.state).toBe("failed");
    expect(done.result?.reason).toBe("not_allowed");
    expect(done.result?.message).toContain(`"env" resolves to ${realpathSync("/usr/bin/env")}`);
    expect(done.result?.message).toContain(`SKYCLAW_ALLOWED_COMMANDS allows: sh → ${realpathSync("/bin/sh")}`);
  });

  test("PATH in the job's env (which would make `sh` find the look-alike)", async () => {
    const done = await run(shellJob("exit 0", { env: { PATH: trap } }));
    expect(done.result).toMatchObject({ reason: "not_allowed", exitCode: null });
    expect(done.result?.message).toContain("may not set PATH");
  });

  test.each(["LD_PRELOAD", "LD_LIBRARY_PATH", "NODE_OPTIONS", "BASH_ENV", "DYLD_INSERT_LIBRARIES", "SKYCLAW_TOKEN"])("%s in the job's env", async (name) => {
    const done = await run(shellJob("exit 0", { env: { [name]: join(trap, "evil") } }));
    expect(done.result?.reason).toBe("not_allowed");
    expect(done.result?.message).toContain(name);
  });

  test("a symlink named like an allowed command that points to another binary", async () => {
    const done = await run({ kind: "shell", command: join(trap, "sh"), args: ["sh", "-c", `touch ${marker}`] });
    expect(done.result?.reason).toBe("not_allowed");
    expect(done.result?.message).toContain(`resolves to ${realpathSync("/usr/bin/env")}`);
  });

  test("a relative path that climbs out of the job's directory to another binary", async () => {
    const done = await run({ kind: "shell", command: `../../../../../../../../../../../..${join(trap, "evil")}` });
    expect(done.result?.reason).toBe("not_allowed");
    expect(done.result?.message).toContain(`resolves to ${realpathSync(join(trap, "evil"))}`);
  });

  test("a relative path to nothing", async () => {
    const done = await run({ kind: "shell", command: "./sh" });
    expect(done.result?.reason).toBe("not_allowed");
    expect(done.result?.message).toContain("does not resolve to an executable");
  });

  test("nothing refused ever ran", () => {
    expect(existsSync(marker)).toBe(false);
  });
});

describe("the allowed executable runs however it is named", () => {
  test.each(["sh", "/bin/sh", "/usr/bin/sh", "../../../../../../../../../../../../bin/sh"])("%s", async (command) => {
    const done = await run({ kind: "shell", command, args: ["-c", "echo allowed"] });
    expect(done.state).toBe("succeeded");
    expect(done.result?.stdoutTail).toBe("allowed\n");
  });
});

describe("cwd stays inside the job's directory", () => {
  test.each(["..", "../other", "a/../../..", "/tmp"])("%s is refused with reason bad_cwd", async (cwd) => {
    const done = await run(shellJob("pwd", { cwd }));
    expect(done.state).toBe("failed");
    expect(done.result?.reason).toBe("bad_cwd");
  });

  test("a relative cwd inside it is created", async () => {
    const done = await run(shellJob("pwd", { cwd: "a/../b/c" }));
    expect(done.state).toBe("succeeded");
    expect(done.result?.stdoutTail?.trim()).toEndWith("-1/b/c");
  });
});

describe("an empty allowlist", () => {
  test("runs no shell job", async () => {
    const other = startTestCoordinator();
    await startTestHost(hostConfig(other.url, { SKYCLAW_ALLOWED_COMMANDS: "" }));
    const job = await other.client.enqueue(shellJob("echo hi"));
    const done = await waitForEnd(other.client, job.id);
    expect(done.result?.reason).toBe("not_allowed");
    expect(done.result?.message).toContain("SKYCLAW_ALLOWED_COMMANDS is empty");
  });
});
