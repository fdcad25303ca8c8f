/**
 * Signing from the command line, against real processes: `skyclaw keys`, enqueue with
 * --sign-key / SKYCLAW_SIGNING_KEY, the coordinator storing the signature as given, and a job
 * tampered with in the coordinator's database after it was signed, which a trusting host refuses.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Job } from "../../src/api";
import { SkyclawClient } from "../../src/client/skyclaw-client";
import { loadClientConfig } from "../../src/config";
import { signedFieldsOfJob, verifyJobSignature } from "../../src/signing/signed-job";
import { api } from "../cli/simulated-host";
import { waitForEnd } from "../host/harness";
import { killAll, runCli, startCli, startCoordinatorProcess, tempDir, type CoordinatorProcess } from "../helpers/processes";

// These tests spawn real processes.
setDefaultTimeout(30_000);

let coordinator: CoordinatorProcess;
let env: Record<string, string>;
let keyDir: string;
let keyPath: string;
let publicKey: string;

beforeAll(async () => {
  coordinator = await startCoordinatorProcess();
  env = { SKYCLAW_COORDINATOR_URL: coordinator.url };
  keyDir = tempDir("skyclaw-signing-");
  keyPath = join(keyDir, "keys", "submitter.pem");
  const generated = await runCli(["keys", "generate", "--out", keyPath]);
  expect(generated.exitCode).toBe(0);
  publicKey = generated.stdout.trim();
});
afterAll(killAll);

async function storedJob(id: string): Promise<Job> {
  const { status, body } = await api<Job>(coordinator.url, "GET", `/v1/jobs/${id}`);
  expect(status).toBe(200);
  return body;
}

describe("skyclaw keys", () => {
  test("generate writes a private key only its owner can read and prints the public key", async () => {
    expect(publicKey).toMatch(/^ed25519:[A-Za-z0-9+/]{43}=$/);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyPath, "utf8")).toStartWith("-----BEGIN PRIVATE KEY-----\n");
    const shown = await runCli(["keys", "public", keyPath]);
    expect(shown).toMatchObject({ exitCode: 0, stdout: `${publicKey}\n` });
  });

  test("generate does not overwrite a key unless --force is given", async () => {
    const again = await runCli(["keys", "generate", "--out", keyPath]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toBe(`skyclaw: ${keyPath} already exists; pass --force to replace it, or --out another path\n`);
    expect((await runCli(["keys", "public", keyPath])).stdout).toBe(`${publicKey}\n`);

    const other = join(keyDir, "other.pem");
    const first = await runCli(["keys", "generate", "--out", other]);
    const forced = await runCli(["keys", "generate", "--force", "--out", other]);
    expect(forced.exitCode).toBe(0);
    expect(forced.stdout).not.toBe(first.stdout);
    expect((await runCli(["keys", "public", other])).stdout).toBe(forced.stdout);
  });
});

describe("enqueue with a signing key", () => {
  test("--sign-key signs the job under a generated id; the stored signature verifies over the stored job", async () => {
    const result = await runCli(["enqueue-shell", "--sign-key", keyPath, "--requires", "shell", "--timeout", "5s", "--env", "A=1", "sh", "-c", "echo hi"], { env });
    expect(result.exitCode).toBe(0);
    const id = result.stdout.trim();
    expect(id).toMatch(/^job_[0-9a-f]{32}$/);
    const job = await storedJob(id);
    expect(job.signature?.publicKey).toBe(publicKey);
    expect(verifyJobSignature(job.signature!, signedFieldsOfJob(job))).toBe(true);
  });

  test("SKYCLAW_SIGNING_KEY signs too, and an explicit --id is the id signed", async () => {
    const result = await runCli(["enqueue-openclaw", "--id", "signed-agent-run", "--message", "hello"], { env: { ...env, SKYCLAW_SIGNING_KEY: keyPath } });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("signed-agent-run\n");
    const job = await storedJob("signed-agent-run");
    expect(job.signature?.publicKey).toBe(publicKey);
    expect(verifyJobSignature(job.signature!, signedFieldsOfJob(job))).toBe(true);
    expect(verifyJobSignature(job.signature!, signedFieldsOfJob({ ...job, id: "another-id" }))).toBe(false);
  });

  test("a missing or group-readable key file is a usage error and nothing is enqueued", async () => {
    const before = (await api<{ jobs: Job[] }>(coordinator.url, "GET", "/v1/jobs")).body.jobs.length;
    const missing = await runCli(["enqueue-shell", "--sign-key", join(keyDir, "nope.pem"), "true"], { env });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toBe(`skyclaw: cannot read signing key ${join(keyDir, "nope.pem")}: ENOENT\n`);

    const loose = join(keyDir, "loose.pem");
    expect((await runCli(["keys", "generate", "--out", loose])).exitCode).toBe(0);
    chmodSync(loose, 0o644);
    const refused = await runCli(["enqueue-shell", "--sign-key", loose, "true"], { env });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toBe(`skyclaw: signing key ${loose} is readable by other users (mode 644); run chmod 600 ${loose}\n`);
    expect((await api<{ jobs: Job[] }>(coordinator.url, "GET", "/v1/jobs")).body.jobs.length).toBe(before);
  });
});

describe("the coordinator and signatures", () => {
  const validShape = { publicKey: `ed25519:${"A".repeat(43)}=`, value: `${"A".repeat(86)}==` };

  test("stores a well-formed signature as given, without verifying it", async () => {
    const { status, body } = await api<Job>(coordinator.url, "POST", "/v1/jobs", { kind: "shell", command: "true", id: "unverified-1", signature: validShape });
    expect(status).toBe(201);
    expect(body.signature).toEqual(validShape);
    expect((await storedJob("unverified-1")).signature).toEqual(validShape);
  });

  test("refuses a malformed signature field, or a signature without an id, with 400", async () => {
    for (const signature of [{ ...validShape, publicKey: "rsa:abc" }, { ...validShape, value: "short" }, { publicKey: validShape.publicKey }, { ...validShape, extra: 1 }, "text"]) {
      const { status, body } = await api<{ error: string; message: string }>(coordinator.url, "POST", "/v1/jobs", { kind: "shell", command: "true", signature });
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: "invalid_request", field: expect.stringMatching(/^signature/) });
    }
    const noId = await api<{ error: string; field: string; message: string }>(coordinator.url, "POST", "/v1/jobs", { kind: "shell", command: "true", signature: validShape });
    expect(noId.status).toBe(400);
    expect(noId.body).toEqual({ error: "invalid_request", field: "id", message: "id: is required for a signed job: the id is part of what is signed" });
  });
});

describe("a job tampered with in the coordinator's database", () => {
  test("is refused by a trusting host and does not run, while an untouched signed job runs", async () => {
    const markers = tempDir("skyclaw-signing-markers-");
    const planted = join(markers, "planted");
    const honest = join(markers, "honest");
    // Enqueued while no host runs: both stay queued.
    const good = await runCli(["enqueue-shell", "--sign-key", keyPath, "--id", "signed-untouched", "--max-attempts", "1", "sh", "-c", `touch ${honest}`], { env });
    const victim = await runCli(["enqueue-shell", "--sign-key", keyPath, "--id", "signed-tampered", "--max-attempts", "1", "sh", "-c", "echo harmless"], { env });
    expect([good.exitCode, victim.exitCode]).toEqual([0, 0]);

    const db = new Database(coordinator.dbPath);
    try {
      const row = db.query<{ spec: string }, [string]>("SELECT spec FROM jobs WHERE id = ?").get("signed-tampered")!;
      const spec = JSON.parse(row.spec);
      expect(spec.args).toEqual(["-c", "echo harmless"]);
      spec.args = ["-c", `touch ${planted}`];
      db.query("UPDATE jobs SET spec = ?2 WHERE id = ?1").run("signed-tampered", JSON.stringify(spec));
    } finally {
      db.close();
    }
    expect((await storedJob("signed-tampered")).spec.args).toEqual(["-c", `touch ${planted}`]);

    const host = startCli(["host"], {
      env: {
        ...env,
        SKYCLAW_ALLOWED_COMMANDS: "sh",
        SKYCLAW_HOST_STATE_DIR: join(tempDir("skyclaw-signing-host-"), "state"),
        SKYCLAW_TRUSTED_KEYS: publicKey,
      },
    });
    await host.stderr.waitFor(/registered as/, 15_000);
    const client = new SkyclawClient(loadClientConfig(env));

    const tampered = await waitForEnd(client, "signed-tampered");
    expect(tampered.state).toBe("failed");
    expect(tampered.result).toMatchObject({ exitCode: null, reason: "signature_rejected" });
    expect(tampered.result?.message).toContain("bad signature");
    expect(existsSync(planted)).toBe(false);

    const untouched = await waitForEnd(client, "signed-untouched");
    expect(untouched.state).toBe("succeeded");
    expect(existsSync(honest)).toBe(true);

    host.process.kill("SIGTERM");
    expect(await host.exited).toBe(0);
  });
});
