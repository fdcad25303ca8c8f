/** The signed form of a job: stable bytes, the same from a request and from the job made of it, and Ed25519 round trips. */
import { describe, expect, test } from "bun:test";
import { createPrivateKey } from "node:crypto";
import type { EnqueueBody, Job, JobSpec } from "../../src/api";
import { ConfigError, loadHostConfig } from "../../src/config";
import { enqueueCommand } from "../../src/coordinator/job-spec";
import { generateSigningKeyPair, normalizePublicKey } from "../../src/signing/ed25519-keys";
import { signedFieldsOfJob, signedFieldsOfRequest, signedJobBytes, signJob, SIGNED_JOB_PREFIX, verifyJobSignature } from "../../src/signing/signed-job";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function keyPair() {
  const { privateKeyPem, publicKey } = generateSigningKeyPair();
  return { privateKey: createPrivateKey(privateKeyPem), publicKey };
}

/** The job a coordinator stores for this request, as a host receives it (requirements as the state machine sorts them). */
function jobFromRequest(body: EnqueueBody & { id: string }): Job {
  const command = enqueueCommand(body, body.id);
  return {
    id: body.id,
    kind: body.kind,
    state: "leased",
    spec: command.spec,
    requires: [...new Set([body.kind, ...command.requires])].sort(),
    priority: command.priority,
    timeoutMs: command.timeoutMs,
    attempt: 1,
    maxAttempts: command.maxAttempts,
    retryOnFailure: command.retryOnFailure,
    backoffMs: command.backoffMs,
    hostId: "host_1",
    leaseExpiresAt: 1,
    availableAt: 0,
    cancelRequestedAt: null,
    createdAt: 0,
    updatedAt: 0,
    finishedAt: null,
    result: null,
    lastError: null,
    outputBytes: 0,
    outputTruncated: false,
    ...(command.signature !== undefined && { signature: command.signature }),
  };
}

describe("the signed bytes", () => {
  const spec: JobSpec = { kind: "shell", command: "sh", args: ["-c", "echo hi"], env: { B: "2", A: "1" }, cwd: "work" };

  test("are a versioned prefix and canonical JSON of exactly the signed fields, with defaults filled", () => {
    const bytes = text(signedJobBytes({ id: "job_1", spec: { kind: "shell", command: "true" }, requires: [], timeoutMs: null }));
    expect(bytes).toBe(
      SIGNED_JOB_PREFIX +
        '{"agent":null,"args":[],"command":"true","cwd":null,"env":{},"id":"job_1","kind":"shell","message":null,"model":null,"requires":["shell"],"thinking":null,"timeoutMs":null}',
    );
    expect(SIGNED_JOB_PREFIX).toBe("skyclaw-job-signature-v1\n");
  });

  test("do not depend on key order, requirement order or duplicates", () => {
    const reordered: JobSpec = { cwd: "work", env: { A: "1", B: "2" }, args: ["-c", "echo hi"], command: "sh", kind: "shell" };
    const a = signedJobBytes({ id: "job_1", spec, requires: ["gpu", "shell"], timeoutMs: 5_000 });
    const b = signedJobBytes({ timeoutMs: 5_000, requires: ["shell", "gpu", "gpu"], spec: reordered, id: "job_1" });
    expect(text(a)).toBe(text(b));
  });

  test("change with every signed field", () => {
    const base = { id: "job_1", spec, requires: ["gpu"], timeoutMs: 5_000 };
    const variants = [
      { ...base, id: "job_2" },
      { ...base, spec: { ...spec, command: "bash" } },
      { ...base, spec: { ...spec, args: ["-c", "echo bye"] } },
      { ...base, spec: { ...spec, env: { A: "1", B: "3" } } },
      { ...base, spec: { ...spec, cwd: "elsewhere" } },
      { ...base, requires: ["gpu", "big"] },
      { ...base, timeoutMs: 6_000 },
      { ...base, timeoutMs: null },
    ];
    const all = new Set([base, ...variants].map((fields) => text(signedJobBytes(fields))));
    expect(all.size).toBe(variants.length + 1);
  });

  test("of a request equal those of the job the coordinator makes of it (empty args/env dropped, kind added to requirements)", () => {
    const requests: (EnqueueBody & { id: string })[] = [
      { id: "job_a", kind: "shell", command: "sh", args: [], env: {}, requires: ["gpu", "shell"], priority: 5 },
      { id: "job_b", kind: "shell", command: "sh", args: ["-c", "x"], env: { K: "v" }, cwd: "/tmp", timeoutMs: 1_000 },
      { id: "job_c", kind: "openclaw", message: "hello", model: "m/x", thinking: "low", agent: "main" },
      { id: "job_d", kind: "openclaw", args: ["status"] },
    ];
    for (const request of requests) {
      expect(text(signedJobBytes(signedFieldsOfJob(jobFromRequest(request))))).toBe(text(signedJobBytes(signedFieldsOfRequest(request))));
    }
  });
});

describe("sign and verify", () => {
  const request: EnqueueBody & { id: string } = { id: "job_signed", kind: "shell", command: "sh", args: ["-c", "echo hi"] };

  test("a signature made for a request verifies over the job the coordinator stores", () => {
    const { privateKey, publicKey } = keyPair();
    const signature = signJob(privateKey, signedFieldsOfRequest(request));
    expect(signature.publicKey).toBe(publicKey);
    expect(signature.value).toMatch(/^[A-Za-z0-9+/]{86}==$/);
    const job = jobFromRequest({ ...request, signature });
    expect(verifyJobSignature(job.signature!, signedFieldsOfJob(job))).toBe(true);
  });

  test("fails for a changed job, another id, another key, or a mangled value", () => {
    const { privateKey } = keyPair();
    const signature = signJob(privateKey, signedFieldsOfRequest(request));
    const job = jobFromRequest({ ...request, signature });
    expect(verifyJobSignature(signature, signedFieldsOfJob({ ...job, spec: { ...job.spec, args: ["-c", "rm -rf ~"] } }))).toBe(false);
    expect(verifyJobSignature(signature, signedFieldsOfJob({ ...job, id: "job_other" }))).toBe(false);
    expect(verifyJobSignature({ ...signature, publicKey: keyPair().publicKey }, signedFieldsOfJob(job))).toBe(false);
    const flipped = (signature.value[0] === "A" ? "B" : "A") + signature.value.slice(1);
    expect(verifyJobSignature({ ...signature, value: flipped }, signedFieldsOfJob(job))).toBe(false);
    expect(verifyJobSignature({ ...signature, value: "not base64" }, signedFieldsOfJob(job))).toBe(false);
  });
});

describe("public keys and SKYCLAW_TRUSTED_KEYS", () => {
  test("a key is accepted with or without its ed25519: prefix and normalized", () => {
    const { publicKey } = keyPair();
    const bare = publicKey.slice("ed25519:".length);
    expect(normalizePublicKey(bare)).toBe(publicKey);
    expect(loadHostConfig({ SKYCLAW_TRUSTED_KEYS: ` ${bare} , ${publicKey}` }).trustedKeys).toEqual([publicKey]);
    expect(loadHostConfig({}).trustedKeys).toEqual([]);
  });

  test("a value that is not a key is a start-up error naming the variable", () => {
    expect(() => loadHostConfig({ SKYCLAW_TRUSTED_KEYS: "ed25519:short" })).toThrow(ConfigError);
    expect(() => loadHostConfig({ SKYCLAW_TRUSTED_KEYS: "ed25519:short" })).toThrow(/SKYCLAW_TRUSTED_KEYS: "ed25519:short" is not an Ed25519 public key/);
  });
});
