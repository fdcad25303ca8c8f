/**
 * Runs a citty command tree without citty's `runMain`, whose error path prints a stack trace or
 * a usage dump and always exits 1.
 *
 * The runner walks the subcommands itself, answers `--help` (citty's generated usage) and
 * `--version` at every level, passes the tokens through the strict check in strict-args.ts and
 * only then hands the command to citty's `runCommand`. A command may return a number: that is
 * the process's exit code.
 */
import { renderUsage, runCommand, type ArgsDef, type CommandDef, type CommandMeta, type Resolvable } from "citty";
import { ANSI_ESCAPE, UsageError } from "./errors";
import { writeOut, writeErr } from "./output";
import { scanArgs } from "./strict-args";

// Each command is a CommandDef over its own args; the runner handles them all alike.
type AnyCommand = CommandDef<any>;

/** What every command receives as `context.data`. */
export interface CliData {
  /** The job's argv for commands that take one (see `takesJobArgv`), else empty. */
  argv: string[];
  /** Every value of each flag, for flags that may repeat. */
  values: Map<string, string[]>;
}

const jobArgvCommands = new WeakSet<AnyCommand>();

/** Marks a command whose first positional starts a job's argv: flag parsing stops there. */
export function takesJobArgv<T extends AnyCommand>(command: T): T {
  jobArgvCommands.add(command);
  return command;
}

async function resolve<T>(value: Resolvable<T> | undefined): Promise<T | undefined> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

async function usage(command: AnyCommand, path: string[], version: string): Promise<string> {
  const parent = path.length > 1 ? { meta: { name: path.slice(0, -1).join(" "), version } } : undefined;
  const text = await renderUsage(command, parent);
  return process.stdout.isTTY ? text : text.replace(ANSI_ESCAPE, "");
}

/** Runs the command the tokens name and returns the exit code. Errors propagate to the caller. */
export async function runCli(root: AnyCommand, tokens: string[], version: string): Promise<number> {
  let command = root;
  let rest = tokens;
  const path = [(await resolve<CommandMeta>(root.meta))?.name ?? "skyclaw"];

  for (;;) {
    const subCommands = await resolve(command.subCommands);
    if (subCommands === undefined) break;
    const end = rest.indexOf("--") === -1 ? rest.length : rest.indexOf("--");
    const nameIndex = rest.slice(0, end).findIndex((token) => !token.startsWith("-") || token === "-");
    const flags = nameIndex === -1 ? rest.slice(0, end) : rest.slice(0, nameIndex);
    const help = flags.some((flag) => flag === "--help" || flag === "-h");
    const showVersion = flags.some((flag) => flag === "--version" || flag === "-v");
    const defaultName = await resolve(command.default);
    const here = path.join(" ");

    const name = nameIndex === -1 ? undefined : rest[nameIndex]!;
    const sub = name === undefined ? undefined : await findSubCommand(subCommands, name);
    if (help) return printed(await usage(command, path, version));
    if (showVersion) return printed(version);
    if (name !== undefined && sub === undefined) throw new UsageError(`unknown command "${name}" (see ${here} --help)`);
    if (sub !== undefined) {
      if (flags[0] !== undefined) throw new UsageError(`unknown option ${flags[0]} (see ${here} --help)`);
      command = sub;
      path.push(name!);
      rest = rest.slice(nameIndex + 1);
      continue;
    }
    if (defaultName !== undefined) {
      // A group with a default subcommand (`skyclaw hosts` = `skyclaw hosts list`) passes it every token.
      command = (await findSubCommand(subCommands, defaultName))!;
      path.push(defaultName);
      continue;
    }
    if (flags[0] !== undefined) throw new UsageError(`unknown option ${flags[0]} (see ${here} --help)`);
    await writeErr(`${await usage(command, path, version)}\n\n`);
    throw new UsageError(`missing command (see ${here} --help)`);
  }

  const argsDef = (await resolve<ArgsDef>(command.args)) ?? {};
  const scanned = scanArgs(argsDef, rest, { passthrough: jobArgvCommands.has(command), command: path.join(" ") });
  if (scanned.help) return printed(await usage(command, path, version));
  if (scanned.version) return printed(version);
  const data: CliData = { argv: scanned.passthrough, values: scanned.values };
  const { result } = await runCommand(command, { rawArgs: scanned.cittyArgs, data });
  return typeof result === "number" ? result : 0;
}

async function findSubCommand(subCommands: Record<string, Resolvable<AnyCommand>>, name: string): Promise<AnyCommand | undefined> {
  if (Object.hasOwn(subCommands, name)) return resolve(subCommands[name]);
  for (const candidate of Object.values(subCommands)) {
    const command = await resolve(candidate);
    const meta = await resolve<CommandMeta>(command?.meta);
    const aliases = meta?.alias === undefined ? [] : Array.isArray(meta.alias) ? meta.alias : [meta.alias];
    if (aliases.includes(name)) return command;
  }
  return undefined;
}

async function printed(text: string): Promise<number> {
  await writeOut(`${text}\n`);
  return 0;
}
