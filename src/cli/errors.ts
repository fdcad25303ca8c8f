/**
 * How the CLI fails: one line on stderr and an exit code a script can branch on.
 *
 *   2  usage or configuration error (bad flag, bad number, bad SKYCLAW_* variable)
 *   1  the API refused the request, or no coordinator answered
 *   3  `skyclaw host` / `skyclaw dev`: the coordinator revoked this host (see src/host/revocation.ts)
 *
 * `--wait` exit codes for a finished job are in wait-exit-code.ts.
 */
import { ConfigError } from "../config";
import { ApiError, UnavailableError } from "../client/http";
import { EXIT_HOST_REVOKED, HostRevokedError } from "../host/revocation";

export const EXIT_USAGE = 2;
export const EXIT_API = 1;

/** The command line itself is wrong; the message says what and how to fix it. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export const ANSI_ESCAPE = /\u001B\[[0-9;]*m/g;

export function describeFailure(error: unknown): { message: string; exitCode: number } {
  if (error instanceof UsageError) return { message: error.message, exitCode: EXIT_USAGE };
  if (error instanceof ConfigError) return { message: `configuration error: ${error.message}`, exitCode: EXIT_USAGE };
  // citty's own argument errors (missing positional, bad enum value) are usage errors too.
  if (error instanceof Error && error.name === "CLIError") return { message: error.message.replace(ANSI_ESCAPE, ""), exitCode: EXIT_USAGE };
  if (error instanceof HostRevokedError) return { message: error.message, exitCode: EXIT_HOST_REVOKED };
  if (error instanceof ApiError) return { message: `${error.message} (HTTP ${error.status} ${error.body.error})`, exitCode: EXIT_API };
  if (error instanceof UnavailableError) return { message: error.message, exitCode: EXIT_API };
  return { message: error instanceof Error ? error.message : String(error), exitCode: EXIT_API };
}

/** Prints `skyclaw: <message>` and exits with the code that fits the error. */
export function failAndExit(error: unknown): never {
  const { message, exitCode } = describeFailure(error);
  process.stderr.write(`skyclaw: ${message.split("\n")[0]}\n`);
  process.exit(exitCode);
}
