/**
 * Shared-token auth: `x-skyclaw-token` (or `Authorization: Bearer …`) must equal SKYCLAW_TOKEN.
 * Both sides are hashed before a constant-time compare, so neither the content nor the length
 * of the token leaks through timing.
 */
import { timingSafeEqual } from "node:crypto";
import { DASHBOARD_PATHS, OPENAPI_PATH } from "./dashboard/public-paths";

export const TOKEN_HEADER = "x-skyclaw-token";

/** Paths anyone may call: a load balancer's health check carries no secret, the others no data. */
const PUBLIC_PATHS = new Set<string>(["/health", OPENAPI_PATH, ...DASHBOARD_PATHS]);

export function requestToken(headers: Headers): string | undefined {
  const direct = headers.get(TOKEN_HEADER);
  if (direct !== null) return direct;
  const authorization = headers.get("authorization");
  const bearer = authorization?.match(/^Bearer\s+(.+)$/i);
  return bearer?.[1];
}

export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const digest = (value: string) => Bun.SHA256.hash(value);
  return timingSafeEqual(digest(expected), digest(given));
}

export function needsToken(path: string): boolean {
  return !PUBLIC_PATHS.has(path);
}
