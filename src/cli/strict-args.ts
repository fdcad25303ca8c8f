/**
 * The strict half of argument parsing that citty leaves out.
 *
 * citty accepts any flag and any value silently (`--priorty 5` is ignored, `--priority abc`
 * arrives as a string). Before a command runs, its tokens go through `scanArgs`, which knows the
 * command's declared flags (their kebab and camel spellings, aliases, `--no-x` for booleans,
 * `--flag=value`) and refuses anything else with a message naming the flag.
 *
 * Commands that carry a job's argv (`enqueue-shell bash -lc "…"`) stop flag parsing at the
 * first positional or at `--`: everything after is the job's, untouched, even `--help`.
 */
import type { ArgDef, ArgsDef } from "citty";
import { UsageError } from "./errors";

const repeatableFlags = new WeakSet<ArgDef>();

/** Marks a string flag that may be given several times (`--env A=1 --env B=2`). */
export function repeatable<T extends ArgDef>(def: T): T {
  repeatableFlags.add(def);
  return def;
}

export interface ScannedArgs {
  help: boolean;
  version: boolean;
  /** What citty should parse: the flags and, for ordinary commands, the positionals. */
  cittyArgs: string[];
  /** Every value given for each declared flag, by declared name, in command-line order. */
  values: Map<string, string[]>;
  positionals: string[];
  /** For commands that take a job's argv: everything from the first positional (or after `--`). */
  passthrough: string[];
}

interface FlagSpelling {
  name: string;
  def: ArgDef;
}

export function kebabCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

function spellings(argsDef: ArgsDef): Map<string, FlagSpelling> {
  const byFlag = new Map<string, FlagSpelling>();
  for (const [name, def] of Object.entries(argsDef)) {
    if (def.type === "positional") continue;
    for (const spelling of [name, kebabCase(name), camelCase(name)]) byFlag.set(`--${spelling}`, { name, def });
    const aliases = "alias" in def && def.alias !== undefined ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const alias of aliases) byFlag.set(alias.length === 1 ? `-${alias}` : `--${alias}`, { name, def });
  }
  return byFlag;
}

export function scanArgs(argsDef: ArgsDef, tokens: string[], options: { passthrough: boolean; command: string }): ScannedArgs {
  const flags = spellings(argsDef);
  const builtinHelp = !flags.has("--help");
  const builtinVersion = !flags.has("--version");
  const scanned: ScannedArgs = { help: false, version: false, cittyArgs: [], values: new Map(), positionals: [], passthrough: [] };
  let firstError: string | undefined;
  const fail = (message: string) => {
    firstError ??= message;
  };

  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    if (token === "--") {
      const rest = tokens.slice(index + 1);
      if (options.passthrough) scanned.passthrough = rest;
      else {
        scanned.positionals.push(...rest);
        scanned.cittyArgs.push(...tokens.slice(index));
      }
      break;
    }
    if (!token.startsWith("-") || token === "-") {
      if (options.passthrough) {
        scanned.passthrough = tokens.slice(index);
        break;
      }
      scanned.positionals.push(token);
      scanned.cittyArgs.push(token);
      continue;
    }

    const equals = token.indexOf("=");
    const flag = equals === -1 ? token : token.slice(0, equals);
    const inlineValue = equals === -1 ? undefined : token.slice(equals + 1);
    if (builtinHelp && (flag === "--help" || flag === "-h")) {
      scanned.help = true;
      continue;
    }
    if (builtinVersion && (flag === "--version" || flag === "-v")) {
      scanned.version = true;
      continue;
    }

    let spelling = flags.get(flag);
    let negated = false;
    if (spelling === undefined && flag.startsWith("--no-")) {
      const positive = flags.get(`--${flag.slice(5)}`);
      if (positive?.def.type === "boolean") {
        spelling = positive;
        negated = true;
      }
    }
    if (spelling === undefined) {
      fail(`unknown option ${flag} (see ${options.command} --help)`);
      continue;
    }

    const { name, def } = spelling;
    let value: string;
    if (def.type === "boolean") {
      if (negated && inlineValue !== undefined) {
        fail(`${flag} takes no value`);
        continue;
      }
      if (inlineValue !== undefined && inlineValue !== "true" && inlineValue !== "false") {
        fail(`${flag} is a switch: give it alone, or as ${flag}=true / ${flag}=false`);
        continue;
      }
      value = negated ? "false" : (inlineValue ?? "true");
      scanned.cittyArgs.push(value === "true" ? `--${name}` : `--no-${name}`);
    } else {
      const next = inlineValue ?? tokens[index + 1];
      if (next === undefined) {
        fail(`${flag} needs a value`);
        continue;
      }
      if (inlineValue === undefined) index++;
      value = next;
      if (def.type === "enum" && def.options !== undefined && !def.options.includes(value)) {
        fail(`${flag} must be one of ${def.options.join(", ")}, got "${value}"`);
        continue;
      }
      // The `=` form keeps a value such as "-5" or "--no-x" from being read as a flag by citty.
      scanned.cittyArgs.push(`--${name}=${value}`);
    }

    const previous = scanned.values.get(name) ?? [];
    if (previous.length > 0 && !repeatableFlags.has(def)) {
      fail(`--${name} given more than once`);
      continue;
    }
    scanned.values.set(name, [...previous, value]);
  }

  if (scanned.help || scanned.version) return scanned;
  if (firstError === undefined) firstError = checkPositionals(argsDef, scanned.positionals);
  if (firstError !== undefined) throw new UsageError(firstError);
  return scanned;
}

function checkPositionals(argsDef: ArgsDef, positionals: string[]): string | undefined {
  const declared = Object.entries(argsDef).filter(([, def]) => def.type === "positional");
  if (positionals.length > declared.length) return `unexpected argument "${positionals[declared.length]}"`;
  for (const [index, [name, def]] of declared.entries()) {
    if (positionals[index] === undefined && def.required !== false && def.default === undefined) {
      return `missing <${name}>`;
    }
  }
  return undefined;
}
