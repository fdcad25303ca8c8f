/**
 * `skyclaw keys generate|public`: a submitter's Ed25519 signing key. The private key stays in a
 * file only its owner can read (enqueue commands sign with it via --sign-key or
 * SKYCLAW_SIGNING_KEY); the public key is what hosts list in SKYCLAW_TRUSTED_KEYS.
 */
import { defineCommand } from "citty";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { generateSigningKeyPair, publicKeyOf, readPrivateKeyFile } from "../../signing/ed25519-keys";
import { UsageError } from "../errors";
import { writeErr, writeOut } from "../output";

const DEFAULT_KEY_PATH = join(homedir(), ".skyclaw", "signing-key.pem");

const generateCommand = defineCommand({
  meta: { name: "generate", description: "Create an Ed25519 signing key (private key file, mode 600) and print its public key" },
  args: {
    out: { type: "string", valueHint: "path", description: `Where to write the private key (default ${DEFAULT_KEY_PATH})` },
    force: { type: "boolean", description: "Replace an existing key file" },
  },
  async run({ args }) {
    const path = args.out ?? DEFAULT_KEY_PATH;
    const { privateKeyPem, publicKey } = generateSigningKeyPair();
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      if (args.force) rmSync(path, { force: true });
      // "wx": never overwrite a key by accident, and create the file already private.
      writeFileSync(path, privateKeyPem, { mode: 0o600, flag: "wx" });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") throw new UsageError(`${path} already exists; pass --force to replace it, or --out another path`);
      throw new UsageError(`cannot write ${path}: ${code ?? String(error)}`);
    }
    await writeErr(`skyclaw: wrote the private key to ${path}; sign jobs with --sign-key ${path} or SKYCLAW_SIGNING_KEY, trust the public key below on hosts with SKYCLAW_TRUSTED_KEYS\n`);
    await writeOut(`${publicKey}\n`);
    return 0;
  },
});

const publicCommand = defineCommand({
  meta: { name: "public", description: "Print the public key of a private key file" },
  args: { path: { type: "positional", required: false, description: `Private key file (default ${DEFAULT_KEY_PATH})` } },
  async run({ args }) {
    const path = args.path ?? DEFAULT_KEY_PATH;
    let publicKey: string;
    try {
      publicKey = publicKeyOf(readPrivateKeyFile(path));
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    await writeOut(`${publicKey}\n`);
    return 0;
  },
});

export const keysCommand = defineCommand({
  meta: { name: "keys", description: "Create and show Ed25519 keys for signing jobs" },
  subCommands: { generate: generateCommand, public: publicCommand },
});
