#!/usr/bin/env bun
/**
 * The `skyclaw` command. Parsing and help come from citty; this file adds what citty leaves
 * out: one-line errors with a non-zero exit code instead of stack traces.
 */
import { defineCommand, runMain } from "citty";
import { ConfigError } from "../config";
import { VERSION } from "../version";
import { coordinatorCommand } from "./commands/coordinator";

const main = defineCommand({
  meta: { name: "skyclaw", version: VERSION, description: "Pool machines into one job network for OpenClaw and shell jobs" },
  subCommands: {
    coordinator: coordinatorCommand,
  },
});

process.on("unhandledRejection", (error) => {
  reportAndExit(error);
});

function reportAndExit(error: unknown): never {
  const message = error instanceof ConfigError ? `configuration error: ${error.message}` : error instanceof Error ? error.message : String(error);
  console.error(`skyclaw: ${message}`);
  process.exit(2);
}

try {
  await runMain(main);
} catch (error) {
  reportAndExit(error);
}
