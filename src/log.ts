/**
 * Event lines of the long-running commands (coordinator, host, dev), one line per event on
 * stderr. Human-readable by default:
 *
 *   2026-11-25T08:00:00.000Z info coordinator node-1 listening on http://127.0.0.1:8787 db=.skyclaw/coordinator.db
 *
 * or, with SKYCLAW_LOG_FORMAT=json, one JSON object per line for a log shipper:
 *
 *   {"time":"2026-11-25T08:00:00.000Z","level":"info","msg":"coordinator node-1 listening on …","url":"http://…","db":"…"}
 *
 * `log` is one process-wide logger: the commands configure it from loadLogConfig() at start-up,
 * and code deep inside (the node's timers) writes to it without a logger being passed down.
 */
import type { LogConfig, LogLevel } from "./config";

export type LogFields = Record<string, unknown>;

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  write?: (line: string) => void;
  now?: () => Date;
}

export class Logger {
  private readonly write: (line: string) => void;
  private readonly now: () => Date;

  constructor(
    private config: LogConfig = { level: "info", format: "human" },
    options: LoggerOptions = {},
  ) {
    this.write = options.write ?? ((line) => process.stderr.write(line));
    this.now = options.now ?? (() => new Date());
  }

  configure(config: LogConfig): void {
    this.config = config;
  }

  enabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] >= LEVEL_RANK[this.config.level];
  }

  debug(msg: string, fields?: LogFields): void {
    this.event("debug", msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.event("info", msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.event("warn", msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.event("error", msg, fields);
  }

  /** A `(line) => void` for code that reports plain text lines (the host daemon), at `level`. */
  lines(level: LogLevel = "info", fields?: LogFields): (line: string) => void {
    return (line) => this.event(level, line, fields);
  }

  event(level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    const time = this.now().toISOString();
    this.write(`${this.config.format === "json" ? jsonLine(time, level, msg, fields) : humanLine(time, level, msg, fields)}\n`);
  }
}

export const log = new Logger();

function jsonLine(time: string, level: LogLevel, msg: string, fields: LogFields): string {
  const record: Record<string, unknown> = { time, level, msg };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && !(key in record)) record[key] = plain(value);
  }
  return JSON.stringify(record);
}

/** Fields as key=value after the message; a string the message already spells out is not repeated. */
function humanLine(time: string, level: LogLevel, msg: string, fields: LogFields): string {
  const parts = [time, level, msg.replaceAll("\n", "\\n")];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || (typeof value === "string" && value !== "" && msg.includes(value))) continue;
    const shown = plain(value);
    const text = typeof shown === "string" ? shown : JSON.stringify(shown);
    parts.push(`${key}=${text !== "" && /^[^\s"=\\]+$/.test(text) ? text : JSON.stringify(text)}`);
  }
  return parts.join(" ");
}

/** Errors become their message: JSON.stringify would turn one into `{}`. */
function plain(value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}
