#!/usr/bin/env node
// `node dist/cli.js …`, as the original README runs Skyclaw: hands over to the compiled
// `skyclaw` binary beside this file, passing arguments, stdio, signals and the exit code through.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const binary = join(dirname(fileURLToPath(import.meta.url)), process.platform === "win32" ? "skyclaw.exe" : "skyclaw");
const child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("error", (error) => {
  console.error(`skyclaw: cannot run ${binary} (${error.message}); build it with \`npm run build\``);
  process.exit(127);
});
child.on("exit", (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
