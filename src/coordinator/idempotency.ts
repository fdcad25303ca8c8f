/**
 * The `x-idempotency-key` header: turned into a stamp on the proposed command, so the record
 * of what the key produced lives in the replicated state, not in one node's memory.
 *
 * It is read from the request's own Headers: a handler that takes Elysia's `headers` makes
 * Elysia copy every header into an object on every request.
 */
import { canonicalJson, sha256Hex } from "../canonical-json";
import { LIMITS } from "../api";
import type { IdempotencyStamp } from "../state/commands";
import { HttpError } from "./http-errors";

export const IDEMPOTENCY_HEADER = "x-idempotency-key";
const KEY_PATTERN = /^[\x21-\x7e]+$/;

export function idempotencyStamp(
  headers: Headers,
  request: { method: string; path: string; body: unknown },
  ttlMs: number,
): IdempotencyStamp | undefined {
  const key = headers.get(IDEMPOTENCY_HEADER);
  if (key === null) return undefined;
  if (key.length === 0 || key.length > LIMITS.idempotencyKeyLength || !KEY_PATTERN.test(key)) {
    throw HttpError.badRequest(
      IDEMPOTENCY_HEADER,
      `must be 1 to ${LIMITS.idempotencyKeyLength} printable ASCII characters without spaces`,
    );
  }
  const requestHash = sha256Hex(`${request.method} ${request.path}\n${canonicalJson(request.body ?? null)}`);
  return { key, requestHash, ttlMs };
}

/** `idempotencyStamp` bound to one TTL: what every write route calls. */
export function idempotencyStamper(ttlMs: number) {
  return (headers: Headers, method: string, path: string, body: unknown) =>
    idempotencyStamp(headers, { method, path, body }, ttlMs);
}
