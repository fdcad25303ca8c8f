/**
 * Event lines: the two formats, level filtering, the variables that choose them, and the
 * coordinator and host processes writing JSON lines when asked to.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { ConfigError, loadLogConfig, type LogConfig } from "../../src/config";
import { Logger } from "../../src/log";
import { killAll, startCli, startCoordinatorProcess } from "../helpers/processes";

afterAll(killAll);

const FIXED_TIME = new Date("2026-11-25T08:00:00.000Z");

function capture(config: LogConfig): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = new Logger(config, { write: (line) => lines.push(line), now: () => FIXED_TIME });
  return { logger, lines };
}

describe("Logger", () => {
  test("human format: time, level, message, then key=value fields on one line", () => {
    const { logger, lines } = capture({ level: "info", format: "human" });
    logger.info("coordinator node-1 listening on http://127.0.0.1:8787", {
      url: "http://127.0.0.1:8787",
      db: "/tmp/my db/coordinator.db",
      slots: 4,
      error: new Error("disk full"),
      skipped: undefined,
    });
    expect(lines).toEqual([
      '2026-11-25T08:00:00.000Z info coordinator node-1 listening on http://127.0.0.1:8787 db="/tmp/my db/coordinator.db" slots=4 error="disk full"\n',
    ]);
  });

  test("a message with a newline stays one line", () => {
    const { logger, lines } = capture({ level: "info", format: "human" });
    logger.warn("first\nsecond", { stack: "a\nb" });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.slice(0, -1)).not.toContain("\n");
  });

  test("json format: one object per line with time, level, msg and the fields", () => {
    const { logger, lines } = capture({ level: "debug", format: "json" });
    logger.error("coordinator: lease expiry failed", { error: new Error("database is locked"), attempt: 2, msg: "cannot override" });
    logger.debug("tick");
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => line.endsWith("\n") && !line.slice(0, -1).includes("\n"))).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual({
      time: "2026-11-25T08:00:00.000Z",
      level: "error",
      msg: "coordinator: lease expiry failed",
      error: "database is locked",
      attempt: 2,
    });
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: "debug", msg: "tick" });
  });

  test("drops events below the configured level", () => {
    const { logger, lines } = capture({ level: "warn", format: "json" });
    logger.debug("d");
    logger.info("i");
    logger.lines("info")("host line");
    logger.warn("w");
    logger.error("e");
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(["w", "e"]);

    logger.configure({ level: "debug", format: "json" });
    logger.debug("d2");
    expect(JSON.parse(lines.at(-1)!).msg).toBe("d2");
  });
});

describe("loadLogConfig", () => {
  test("defaults to info, human; reads SKYCLAW_LOG_LEVEL and SKYCLAW_LOG_FORMAT", () => {
    expect(loadLogConfig({})).toEqual({ level: "info", format: "human" });
    expect(loadLogConfig({ SKYCLAW_LOG_LEVEL: "DEBUG", SKYCLAW_LOG_FORMAT: "json" })).toEqual({ level: "debug", format: "json" });
  });

  test.each([
    ["SKYCLAW_LOG_LEVEL", "verbose", "debug, info, warn, error"],
    ["SKYCLAW_LOG_FORMAT", "logfmt", "human, json"],
  ])("%s=%s is refused naming the allowed values", (variable, value, allowed) => {
    let error: unknown;
    try {
      loadLogConfig({ [variable]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toContain(allowed);
  });
});

describe("processes with SKYCLAW_LOG_FORMAT=json", () => {
  test("the coordinator and a host write only JSON lines, the start-up line carrying the URL", async () => {
    const coordinator = await startCoordinatorProcess({ env: { SKYCLAW_LOG_FORMAT: "json" } });
    const host = startCli(["host"], {
      env: {
        SKYCLAW_COORDINATOR_URL: coordinator.url,
        SKYCLAW_LOG_FORMAT: "json",
        SKYCLAW_HOST_NAME: "json-log-host",
        SKYCLAW_HOST_STATE_DIR: `${coordinator.dbPath}.host`,
        SKYCLAW_CAPABILITIES: "shell",
      },
    });
    await host.stderr.waitFor(/registered as/, 15_000);
    // Killed outright: its signal handlers go in only after this line, and its exit is not the subject here.
    host.process.kill("SIGKILL");
    await host.exited;
    expect(await coordinator.stop()).toBe(0);

    const coordinatorLines = coordinator.stderr().trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(coordinatorLines[0]).toMatchObject({ level: "info", url: coordinator.url, db: coordinator.dbPath });
    expect(coordinatorLines[0].msg).toContain("listening on");
    expect(Number.isNaN(Date.parse(coordinatorLines[0].time))).toBe(false);

    const hostLines = host.stderr.text().trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(hostLines.length).toBeGreaterThan(1);
    expect(hostLines.every((line) => line.level === "info" && typeof line.msg === "string")).toBe(true);
    expect(hostLines.some((line) => line.msg.includes("registered as"))).toBe(true);
  });
});
