/**
 * Ed25519 keys of job submitters: the private key as a PKCS#8 PEM file only its owner can read,
 * the public key as text (`ed25519:<base64 of the raw 32 bytes>`) short enough to paste into a
 * host's SKYCLAW_TRUSTED_KEYS.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { readFileSync, statSync } from "node:fs";

export const PUBLIC_KEY_PREFIX = "ed25519:";
const RAW_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;

export interface GeneratedKeyPair {
  privateKeyPem: string;
  publicKey: string;
}

export function generateSigningKeyPair(): GeneratedKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  return { privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(), publicKey: publicKeyText(publicKey) };
}

export function publicKeyText(key: KeyObject): string {
  const x = key.export({ format: "jwk" }).x;
  if (x === undefined) throw new Error("not an Ed25519 key");
  return PUBLIC_KEY_PREFIX + Buffer.from(x, "base64url").toString("base64");
}

/**
 * `ed25519:<base64>` or bare base64 of the raw 32 bytes, normalized to `ed25519:<base64>`;
 * null when the text is not such a key.
 */
export function normalizePublicKey(text: string): string | null {
  const base64 = text.startsWith(PUBLIC_KEY_PREFIX) ? text.slice(PUBLIC_KEY_PREFIX.length) : text;
  if (!/^[A-Za-z0-9+/]{43}=$/.test(base64)) return null;
  const raw = Buffer.from(base64, "base64");
  return raw.length === RAW_KEY_BYTES ? PUBLIC_KEY_PREFIX + raw.toString("base64") : null;
}

function publicKeyObject(normalized: string): KeyObject {
  const x = Buffer.from(normalized.slice(PUBLIC_KEY_PREFIX.length), "base64").toString("base64url");
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
}

/** Reads a private key file written by `skyclaw keys generate`; the error says what is wrong with it. */
export function readPrivateKeyFile(path: string): KeyObject {
  let mode: number;
  let pem: string;
  try {
    mode = statSync(path).mode;
    pem = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read signing key ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  // Like ssh: a secret others can read is refused rather than silently used.
  if ((mode & 0o077) !== 0) {
    throw new Error(`signing key ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error(`signing key ${path} is not a PEM private key (create one with skyclaw keys generate)`);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new Error(`signing key ${path} is a ${key.asymmetricKeyType} key; an Ed25519 key is required`);
  }
  return key;
}

export function publicKeyOf(privateKey: KeyObject): string {
  return publicKeyText(createPublicKey(privateKey));
}

export function signBytes(privateKey: KeyObject, bytes: Uint8Array): string {
  return sign(null, bytes, privateKey).toString("base64");
}

/** True when `signatureBase64` is `publicKey`'s signature of `bytes`; false for anything malformed. */
export function verifyBytes(publicKey: string, bytes: Uint8Array, signatureBase64: string): boolean {
  const normalized = normalizePublicKey(publicKey);
  if (normalized === null) return false;
  const signature = Buffer.from(signatureBase64, "base64");
  if (signature.length !== SIGNATURE_BYTES) return false;
  try {
    return verify(null, bytes, publicKeyObject(normalized), signature);
  } catch {
    return false;
  }
}
