/**
 * `--sign-key` / SKYCLAW_SIGNING_KEY: the CLI signs the job it submits. The id is part of what is
 * signed, so a signed request always names its id (generated here when --id is absent).
 */
import type { EnqueueBody } from "../api";
import { readPrivateKeyFile } from "../signing/ed25519-keys";
import { signedFieldsOfRequest, signJob } from "../signing/signed-job";
import { UsageError } from "./errors";

export function signRequest(body: EnqueueBody, keyPath: string): EnqueueBody {
  let privateKey;
  try {
    privateKey = readPrivateKeyFile(keyPath);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const withId = { ...body, id: body.id ?? `job_${Bun.randomUUIDv7().replaceAll("-", "")}` };
  return { ...withId, signature: signJob(privateKey, signedFieldsOfRequest(withId)) };
}
