/**
 * What a job signature covers, as one byte string both the submitter and the host build:
 *
 *   "skyclaw-job-signature-v1\n" + canonicalJson({
 *     id, kind, command, args, env, cwd, message, model, thinking, agent, requires, timeoutMs
 *   })
 *
 * with absent fields filled the way the coordinator stores them (command/cwd/message/model/
 * thinking/agent/timeoutMs: null, args: [], env: {}) and `requires` as the sorted, de-duplicated
 * set of the job's kind plus its requirements. The id is signed so that a coordinator cannot
 * replay a signature onto another job; priority and retry settings are not (they decide when a
 * job runs, not what it runs). A new version of this form gets a new prefix.
 */
import type { EnqueueBody, Job, JobSignature, JobSpec } from "../api";
import { canonicalJson } from "../canonical-json";
import { publicKeyOf, signBytes, verifyBytes } from "./ed25519-keys";
import type { KeyObject } from "node:crypto";

export const SIGNED_JOB_PREFIX = "skyclaw-job-signature-v1\n";

export interface SignedJobFields {
  id: string;
  spec: JobSpec;
  requires: readonly string[];
  timeoutMs: number | null;
}

export function signedJobBytes({ id, spec, requires, timeoutMs }: SignedJobFields): Uint8Array {
  const signed = {
    id,
    kind: spec.kind,
    command: spec.command ?? null,
    args: spec.args ?? [],
    env: spec.env ?? {},
    cwd: spec.cwd ?? null,
    message: spec.message ?? null,
    model: spec.model ?? null,
    thinking: spec.thinking ?? null,
    agent: spec.agent ?? null,
    requires: [...new Set([spec.kind, ...requires])].sort(),
    timeoutMs,
  };
  return new TextEncoder().encode(SIGNED_JOB_PREFIX + canonicalJson(signed));
}

/** The signed fields of a request, as the job the coordinator makes of it will carry them. */
export function signedFieldsOfRequest(body: EnqueueBody & { id: string }): SignedJobFields {
  const { kind, command, args, env, cwd, message, model, thinking, agent } = body;
  return {
    id: body.id,
    spec: { kind, command, args, env, cwd, message, model, thinking, agent },
    requires: body.requires ?? [],
    timeoutMs: body.timeoutMs ?? null,
  };
}

export function signedFieldsOfJob(job: Job): SignedJobFields {
  return { id: job.id, spec: job.spec, requires: job.requires, timeoutMs: job.timeoutMs };
}

export function signJob(privateKey: KeyObject, fields: SignedJobFields): JobSignature {
  return { publicKey: publicKeyOf(privateKey), value: signBytes(privateKey, signedJobBytes(fields)) };
}

export function verifyJobSignature(signature: JobSignature, fields: SignedJobFields): boolean {
  return verifyBytes(signature.publicKey, signedJobBytes(fields), signature.value);
}
