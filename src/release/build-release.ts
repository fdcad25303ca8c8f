/**
 * `bun run release`: cross-compiles the `skyclaw` executable for every release target into one
 * folder, copies install.sh beside them and writes SHA256SUMS (sha256sum format), which
 * install.sh checks before it installs anything.
 *
 * Bun fetches each foreign target's runtime (`@oven/bun-<os>-<arch>` at the running Bun's version)
 * from the npm registry on first use and caches it, so this needs no other download site.
 */
import { copyFile, mkdir, rm } from "node:fs/promises";
import { basename, join, resolve } from "node:path";

export const RELEASE_TARGETS = [
  "linux-x64",
  "linux-x64-baseline",
  "linux-arm64",
  "linux-x64-musl",
  "darwin-arm64",
  "darwin-x64",
  "windows-x64",
] as const;
export type ReleaseTarget = (typeof RELEASE_TARGETS)[number];

const REPO_ROOT = resolve(import.meta.dir, "../..");
const CLI_ENTRY = join(REPO_ROOT, "src/cli/main.ts");
// Worker threads are entrypoints of their own in a compiled binary.
const WORKER_ENTRIES = [join(REPO_ROOT, "src/raft/driver/snapshot-worker.ts"), join(REPO_ROOT, "src/raft/wal-checkpoint-worker.ts")];
const INSTALLER = join(REPO_ROOT, "install.sh");
// The same runtime behaviour as `bun run build`: a host's .env or bunfig.toml must not change it.
const COMPILE_FLAGS = ["--compile", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig"];

export function assetName(target: ReleaseTarget): string {
  return target.startsWith("windows-") ? `skyclaw-${target}.exe` : `skyclaw-${target}`;
}

async function compile(target: ReleaseTarget, outfile: string): Promise<string | undefined> {
  const child = Bun.spawn([process.execPath, "build", CLI_ENTRY, ...WORKER_ENTRIES, ...COMPILE_FLAGS, `--target=bun-${target}`, "--outfile", outfile], {
    cwd: REPO_ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (exitCode === 0 && (await Bun.file(outfile).exists())) return undefined;
  const detail = `${stderr}\n${stdout}`.trim().split("\n").slice(-3).join(" | ");
  return `${target}: bun build --target=bun-${target} failed (exit ${exitCode}): ${detail || "no output"}`;
}

async function sha256Hex(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** Builds `targets` into `outDir`; throws naming every target that could not be built. */
export async function buildRelease(options: { outDir: string; targets?: readonly ReleaseTarget[]; log?: (line: string) => void }): Promise<string[]> {
  const targets = options.targets ?? RELEASE_TARGETS;
  const log = options.log ?? (() => {});
  await mkdir(options.outDir, { recursive: true });
  await rm(join(options.outDir, "SHA256SUMS"), { force: true });

  const files: string[] = [];
  const failures: string[] = [];
  for (const target of targets) {
    const outfile = join(options.outDir, assetName(target));
    log(`compiling ${basename(outfile)} (Bun ${Bun.version})`);
    const failure = await compile(target, outfile);
    if (failure) failures.push(failure);
    else files.push(outfile);
  }
  if (failures.length > 0) {
    throw new Error(
      `could not build ${failures.length} of ${targets.length} release targets; SHA256SUMS was not written.\n` +
        `Bun downloads each target's runtime from the npm registry (@oven/bun-<os>-<arch>@${Bun.version}).\n` +
        failures.join("\n"),
    );
  }

  const installer = join(options.outDir, "install.sh");
  await copyFile(INSTALLER, installer);
  files.push(installer);

  const lines: string[] = [];
  for (const file of files.sort()) lines.push(`${await sha256Hex(file)}  ${basename(file)}`);
  await Bun.write(join(options.outDir, "SHA256SUMS"), `${lines.join("\n")}\n`);
  log(`wrote SHA256SUMS for ${files.length} files in ${options.outDir}`);
  return files;
}

if (import.meta.main) {
  const outDir = join(REPO_ROOT, "dist");
  try {
    await buildRelease({ outDir, log: (line) => console.error(`release: ${line}`) });
  } catch (error) {
    console.error(`release: ${(error as Error).message}`);
    process.exit(1);
  }
}
