/**
 * The citty command tree as plain data (names, flags, subcommands), resolved from the same
 * definitions the CLI runs, so a shell completion script built from it cannot drift from the CLI.
 */
import type { ArgsDef, CommandDef, CommandMeta, Resolvable } from "citty";
import { kebabCase } from "./strict-args";

export interface FlagInfo {
  /** Every spelling with its dashes: `--state`, `-f`. */
  spellings: string[];
  description: string;
  takesValue: boolean;
  /** The allowed values of an enum flag. */
  choices: string[];
}

export interface CommandNode {
  /** From the root: `["skyclaw", "jobs", "list"]`. */
  path: string[];
  description: string;
  flags: FlagInfo[];
  subcommands: CommandNode[];
  /** Whether it takes positional words (ids, a job's argv): the shell may offer files there. */
  takesPositionals: boolean;
}

const HELP: FlagInfo = { spellings: ["--help", "-h"], description: "Show help", takesValue: false, choices: [] };
const VERSION: FlagInfo = { spellings: ["--version", "-v"], description: "Show the version", takesValue: false, choices: [] };

async function resolve<T>(value: Resolvable<T> | undefined): Promise<T | undefined> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

export async function commandTree(command: CommandDef<any>, path?: string[]): Promise<CommandNode> {
  const meta = (await resolve<CommandMeta>(command.meta)) ?? {};
  const here = path ?? [meta.name ?? "skyclaw"];
  const args = (await resolve<ArgsDef>(command.args)) ?? {};
  const flags: FlagInfo[] = [];
  let takesPositionals = false;
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") {
      takesPositionals = true;
      continue;
    }
    const aliases = "alias" in def && def.alias !== undefined ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    flags.push({
      spellings: [`--${kebabCase(name)}`, ...aliases.map((alias) => (alias.length === 1 ? `-${alias}` : `--${alias}`))],
      description: def.description ?? "",
      takesValue: def.type === "string" || def.type === "enum",
      choices: def.type === "enum" ? (def.options ?? []) : [],
    });
  }
  const subcommands: CommandNode[] = [];
  for (const [name, sub] of Object.entries((await resolve(command.subCommands)) ?? {})) {
    const resolved = await resolve(sub);
    const subMeta = await resolve<CommandMeta>(resolved?.meta);
    if (resolved !== undefined && subMeta?.hidden !== true) subcommands.push(await commandTree(resolved, [...here, name]));
  }
  // A group with a default subcommand (`skyclaw hosts` = `skyclaw hosts list`) takes its flags too.
  const defaultName = await resolve(command.default);
  const fallback = subcommands.find((sub) => sub.path.at(-1) === defaultName);
  if (fallback !== undefined) {
    const known = new Set(flags.flatMap((flag) => flag.spellings));
    flags.push(...fallback.flags.filter((flag) => !flag.spellings.some((spelling) => known.has(spelling) || spelling === "--help" || spelling === "--version")));
    takesPositionals ||= fallback.takesPositionals;
  }
  return { path: here, description: meta.description ?? "", flags: [...flags, HELP, VERSION], subcommands, takesPositionals };
}

/** Every node, parents before children. */
export function allNodes(root: CommandNode): CommandNode[] {
  return [root, ...root.subcommands.flatMap(allNodes)];
}
