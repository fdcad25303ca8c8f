/**
 * A host with SKYCLAW_TRUSTED_KEYS runs a job only when its signature verifies against one of
 * them; anything else ends failed with reason signature_rejected and nothing of it runs.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createPrivateKey } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { EnqueueBody } from "../../src/api";
import { generateSigningKeyPair } from "../../src/signing/ed25519-keys";
import { signedFieldsOfRequest, signJob } from "../../src/signing/signed-job";
import { hostConfig, shellJob, startTestCoordinator, startTestHost, stopAll, tempDir, waitForEnd, type TestCoordinator } from "../host/harness";

const trusted = generateSigningKeyPair();
const stranger = generateSigningKeyPair();

function signedShellJob(script: string, id: string, privateKeyPem: string): EnqueueBody {
  const body = { ...shellJob(script), id };
  return { ...body, signature: signJob(createPrivateKey(privateKeyPem), signedFieldsOfRequest(body)) };
}

let coordinator: TestCoordinator;
let markerDir: string;
beforeEach(async () => {
  coordinator = startTestCoordinator();
  markerDir = tempDir("skyclaw-signing-markers-");
  await startTestHost(hostConfig(coordinator.url, { SKYCLAW_TRUSTED_KEYS: trusted.publicKey }));
});
afterEach(stopAll);

describe("a host with trusted keys", () => {
  test("runs a job signed by a trusted key", async () => {
    const marker = join(markerDir, "ran");
    const job = await coordinator.client.enqueue(signedShellJob(`touch ${marker}; echo signed`, "job_trusted", trusted.privateKeyPem));
    expect(job.signature?.publicKey).toBe(trusted.publicKey);
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("succeeded");
    expect(done.result).toMatchObject({ exitCode: 0, stdoutTail: "signed\n" });
    expect(existsSync(marker)).toBe(true);
  });

  test("refuses an unsigned job without running it", async () => {
    const marker = join(markerDir, "ran");
    const job = await coordinator.client.enqueue(shellJob(`touch ${marker}`));
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("failed");
    expect(done.result).toMatchObject({ exitCode: null, reason: "signature_rejected" });
    expect(done.result?.message).toContain("unsigned");
    expect(done.outputBytes).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  test("refuses a job signed by a key it does not trust", async () => {
    const marker = join(markerDir, "ran");
    const job = await coordinator.client.enqueue(signedShellJob(`touch ${marker}`, "job_stranger", stranger.privateKeyPem));
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("failed");
    expect(done.result).toMatchObject({ reason: "signature_rejected" });
    expect(done.result?.message).toContain(`unknown key (${stranger.publicKey})`);
    expect(existsSync(marker)).toBe(false);
  });

  test("refuses a trusted signature that was made for another job", async () => {
    const marker = join(markerDir, "ran");
    const original = signedShellJob("echo harmless", "job_original", trusted.privateKeyPem);
    // Same signature, another command and id: what a coordinator replaying signatures would send.
    const job = await coordinator.client.enqueue({ ...shellJob(`touch ${marker}`, { id: "job_replayed" }), signature: original.signature });
    const done = await waitForEnd(coordinator.client, job.id);
    expect(done.state).toBe("failed");
    expect(done.result).toMatchObject({ reason: "signature_rejected" });
    expect(done.result?.message).toContain("bad signature");
    expect(existsSync(marker)).toBe(false);
  });
});
