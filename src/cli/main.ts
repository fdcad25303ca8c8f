#!/usr/bin/env bun
/**
 * The `skyclaw` command. Commands are loaded lazily so that `skyclaw enqueue-shell` does not
 * pay for importing the coordinator's web framework. Parsing, help and errors go through
 * runner.ts: one-line errors, exit 2 for usage/configuration, 1 for API/network failures.
 */
import { defineCommand, type CommandDef } from "citty";
import { VERSION } from "../version";
import { failAndExit } from "./errors";
import { runCli } from "./runner";
import { restartWithServerAllocator } from "./server-allocator";

// Before the command's modules load: the restart replaces this process, and the less it has
// started (threads, collections of the heap), the less there is to cut short.
if (process.argv[2] === "coordinator" || process.argv[2] === "dev") restartWithServerAllocator();

const main = defineCommand({
  meta: { name: "skyclaw", version: VERSION, description: "Pool machines into one job network for OpenClaw and shell jobs" },
  subCommands: {
    coordinator: () => import("./commands/coordinator").then((module) => module.coordinatorCommand),
    host: () => import("./commands/host").then((module) => module.hostCommand),
    dev: () => import("./commands/dev").then((module) => module.devCommand),
    "enqueue-shell": () => import("./commands/enqueue-shell").then((module) => module.enqueueShellCommand),
    "enqueue-openclaw": () => import("./commands/enqueue-openclaw").then((module) => module.enqueueOpenclawCommand),
    jobs: () => import("./commands/jobs").then((module) => module.jobsCommand),
    hosts: () => import("./commands/hosts").then((module) => module.hostsCommand),
    cluster: () => import("./commands/cluster").then((module) => module.clusterCommand),
    keys: () => import("./commands/keys").then((module) => module.keysCommand),
    // Typed so `main`'s type does not depend on itself; the script is built from this very tree.
    completion: (): Promise<CommandDef<any>> => import("./commands/completion").then((module) => module.completionCommand(main)),
  },
});

process.on("unhandledRejection", (error) => failAndExit(error));

try {
  process.exit(await runCli(main, process.argv.slice(2), VERSION));
} catch (error) {
  failAndExit(error);
}
