/**
 * Output: streamed while the job runs, capped per job (head + tail kept, truncation marked),
 * never split inside a UTF-8 character, and with the host's memory bounded whatever a job prints.
 */
import type { Subprocess } from "bun";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LIMITS } from "../../src/api";
import { childEnv, collect } from "../helpers/processes";
import { allOutput, hostConfig, shellJob, startTestCoordinator, startTestHost, stopAll, tempDir, TIMINGS, waitForEnd, waitForOutput, type TestCoordinator } from "./harness";

/** The host's own memory (Bun runtime included) while a job prints far more than the cap. */
const FLOOD_RSS_BOUND_MIB = 150;

const CAP_BYTES = 8_192;
let coordinator: TestCoordinator;
beforeAll(async () => {
  coordinator = startTestCoordinator({ SKYCLAW_MAX_OUTPUT_BYTES: String(CAP_BYTES) });
  await startTestHost(hostConfig(coordinator.url, { SKYCLAW_MAX_OUTPUT_BYTES: String(CAP_BYTES), SKYCLAW_MAX_PARALLEL: "2" }));
});
afterAll(stopAll);

const stdoutOf = (chunks: { stream: string; data: string }[]) => chunks.filter((chunk) => chunk.stream === "stdout").map((chunk) => chunk.data).join("");

describe("output", () => {
  test("is stored while the job is still running", async () => {
    const job = await coordinator.client.enqueue(shellJob("echo first; while true; do sleep 0.05; done", { timeoutMs: 5_000 }));
    await waitForOutput(coordinator.client, job.id, "first");
    expect((await coordinator.client.getJob(job.id)).state).toBe("leased");
    await coordinator.client.cancelJob(job.id);
    expect((await waitForEnd(coordinator.client, job.id)).state).toBe("cancelled");
  });

  test("over the cap keeps the head and the end, and marks the truncation", async () => {
    const job = await coordinator.client.enqueue(shellJob(`echo THE-START; yes "line of filler text" | head -n 20000; echo THE-END; echo err-end >&2`));
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("succeeded");
    expect(done.outputTruncated).toBe(true);
    expect(done.result?.truncated).toBe(true);
    const tail = done.result!.stdoutTail!;
    expect(tail).toStartWith("THE-START\nline of filler text\n");
    expect(tail).toMatch(/\[skyclaw host: \d+ bytes of output omitted here\]/);
    expect(tail).toEndWith("line of filler text\nTHE-END\n");
    expect(Buffer.byteLength(tail)).toBeLessThan(CAP_BYTES);
    expect(done.result?.stderrTail).toBe("err-end\n");

    const chunks = await allOutput(coordinator.client, job.id);
    const stored = chunks.reduce((sum, chunk) => sum + Buffer.byteLength(chunk.data), 0);
    expect(stored).toBeLessThanOrEqual(CAP_BYTES + 1_024);
    expect(stdoutOf(chunks)).toStartWith("THE-START\n");
    expect(stdoutOf(chunks)).toEndWith("THE-END\n");
    expect(chunks.some((chunk) => chunk.stream === "system" && chunk.data.includes("output truncated"))).toBe(true);
  });

  test("multi-byte characters split across pipe reads arrive whole", async () => {
    // dd bs=1 writes one byte at a time, so reads of the pipe end inside characters.
    const job = await coordinator.client.enqueue(shellJob(`i=0; while [ $i -lt 300 ]; do printf '€ü😀'; i=$((i+1)); done | dd bs=1 2>/dev/null`));
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("succeeded");
    expect(stdoutOf(await allOutput(coordinator.client, job.id))).toBe("€ü😀".repeat(300));
    expect(done.result?.stdoutTail).toBe("€ü😀".repeat(300));
  });

  test("cutting at the cap never splits a character", async () => {
    const job = await coordinator.client.enqueue(shellJob(`i=0; while [ $i -lt 3000 ]; do printf 'a€😀'; i=$((i+1)); done | dd bs=7 2>/dev/null`));
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.result?.truncated).toBe(true);
    const chunks = await allOutput(coordinator.client, job.id);
    for (const text of [...chunks.map((chunk) => chunk.data), done.result!.stdoutTail!]) expect(text).not.toContain("\uFFFD");
    expect(done.result!.stdoutTail!.length).toBeLessThanOrEqual(LIMITS.outputChunkBytes);
  });
});

describe("a flood", () => {
  let hostProcess: Subprocess | undefined;
  afterAll(async () => {
    hostProcess?.kill("SIGKILL");
    await hostProcess?.exited;
  });

  test(`of 1 GiB is read to the end while the host process stays under ${FLOOD_RSS_BOUND_MIB} MiB resident`, async () => {
    const floodCoordinator = startTestCoordinator();
    const stateDir = join(tempDir(), "host");
    hostProcess = Bun.spawn(["bun", join(import.meta.dir, "fixtures/run-host.ts")], {
      env: childEnv({ SKYCLAW_COORDINATOR_URL: floodCoordinator.url, SKYCLAW_HOST_STATE_DIR: stateDir, SKYCLAW_ALLOWED_COMMANDS: "sh", ...TIMINGS }),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    await collect(hostProcess.stdout as ReadableStream<Uint8Array>).waitFor(/host (\S+) ready/, 10_000);
    const job = await floodCoordinator.client.enqueue(
      shellJob(`yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 1073741824; echo; echo FLOOD-END`, { timeoutMs: 60_000 }),
    );
    const done = await waitForEnd(floodCoordinator.client, job.id, 60_000);
    expect(done.state).toBe("succeeded");
    expect(done.result?.truncated).toBe(true);
    expect(done.result?.stdoutTail).toEndWith("\nFLOOD-END\n");
    // VmHWM: the most the process ever had resident, so no sampling can miss a spike.
    const status = readFileSync(`/proc/${hostProcess.pid}/status`, "utf8");
    const peakKib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
    console.error(`host process peak RSS during a 1 GiB flood: ${(peakKib / 1024).toFixed(1)} MiB`);
    expect(peakKib).toBeLessThan(FLOOD_RSS_BOUND_MIB * 1024);
  }, 60_000);
});
