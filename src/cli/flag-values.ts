/**
 * Strict conversions of flag values. citty hands every value over as a string; these turn them
 * into numbers, durations, lists and env maps, or fail with a usage error naming the flag.
 */
import { UsageError } from "./errors";

export function integerFlag(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`${flag} expects a whole number, got "${value}"`);
  const parsed = Number(value);
  if (parsed < min || parsed > max) throw new UsageError(`${flag} must be between ${min} and ${max}, got ${value}`);
  return parsed;
}

const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `1500` (milliseconds), `1500ms`, `30s`, `5m`, `2h`. */
export function durationMsFlag(value: string | undefined, flag: string, minMs: number, maxMs: number): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value);
  if (match === null) throw new UsageError(`${flag} expects a duration such as 1500 (ms), 30s, 5m or 2h, got "${value}"`);
  const durationMs = Number(match[1]) * DURATION_UNIT_MS[match[2] ?? "ms"]!;
  if (durationMs < minMs || durationMs > maxMs) {
    throw new UsageError(`${flag} must be between ${minMs} ms and ${maxMs} ms, got ${value}`);
  }
  return durationMs;
}

/** `a,b,c` → ["a","b","c"]; blanks dropped. */
export function listFlag(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Every `--env KEY=VALUE` → { KEY: VALUE }; the value may contain `=`. */
export function envFlag(values: string[], flag = "--env"): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const entry of values) {
    const equals = entry.indexOf("=");
    const name = equals === -1 ? entry : entry.slice(0, equals);
    if (equals === -1 || !ENV_NAME.test(name)) {
      throw new UsageError(`${flag} expects KEY=VALUE with KEY made of letters, digits and _, got "${entry}"`);
    }
    env[name] = entry.slice(equals + 1);
  }
  return env;
}
