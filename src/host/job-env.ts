/**
 * A job's environment: a small explicit base plus the job's own `env`, and nothing of the
 * host's (its token, SKYCLAW_* settings and any other secret in its environment stay out).
 *
 * Variables that would change what runs or what it loads (the command search path, the
 * dynamic loader, interpreter start-up hooks) are refused rather than ignored: a job silently
 * run with a different environment than it asked for would be a worse surprise than a clear
 * refusal.
 */
import type { HostConfig } from "../config";

const REFUSED_NAMES = new Set([
  "PATH",
  "HOME",
  "IFS",
  "ENV",
  "BASH_ENV",
  "SHELLOPTS",
  "BASHOPTS",
  "PS4",
  "CDPATH",
  "GLOBIGNORE",
  "NODE_OPTIONS",
  "NODE_PATH",
  "BUN_OPTIONS",
  "BUN_INSTALL",
  "PYTHONPATH",
  "PYTHONHOME",
  "PYTHONSTARTUP",
  "PYTHONINSPECT",
  "PYTHONUSERBASE",
  "PERL5LIB",
  "PERLLIB",
  "PERL5OPT",
  "PERL5DB",
  "RUBYOPT",
  "RUBYLIB",
  "JAVA_TOOL_OPTIONS",
  "_JAVA_OPTIONS",
  "JDK_JAVA_OPTIONS",
  "GCONV_PATH",
  "GLIBC_TUNABLES",
  "HOSTALIASES",
  "LOCALDOMAIN",
  "RES_OPTIONS",
  "LOCPATH",
  "NLSPATH",
]);
/** LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT…; DYLD_* on macOS; exported bash functions; our own settings. */
const REFUSED_PREFIXES = ["LD_", "DYLD_", "BASH_FUNC_", "MALLOC_", "SKYCLAW_"];

/** The names in `env` a job may not set, in order. */
export function refusedEnvNames(env: Record<string, string> | undefined): string[] {
  if (env === undefined) return [];
  return Object.keys(env).filter(
    (name) => REFUSED_NAMES.has(name) || REFUSED_PREFIXES.some((prefix) => name.startsWith(prefix)),
  );
}

export function describeRefusedEnv(names: string[]): string {
  return `the job's env may not set ${names.join(", ")}: variables that change which program runs or what it loads (PATH, HOME, LD_*, DYLD_*, NODE_OPTIONS, BASH_ENV, PYTHONPATH, …) are fixed by the host`;
}

/** Call only after refusedEnvNames(env) came back empty. */
export function jobEnvironment(config: HostConfig, jobDir: string, env: Record<string, string> | undefined): Record<string, string> {
  return {
    PATH: config.jobPath,
    HOME: jobDir,
    LANG: config.jobLang,
    TERM: "dumb",
    ...env,
  };
}
