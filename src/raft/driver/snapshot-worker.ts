/**
 * Worker thread that writes a snapshot image of the state database, so the copy (which grows
 * with the state) never runs on the coordinator's event loop.
 *
 * It opens a read-only connection of its own and runs `VACUUM INTO`, which copies the database
 * inside one read transaction: the image is a consistent view of some committed point. Which
 * point is read from the image itself (its `last_applied`), so image and index always agree,
 * whatever the driver applied meanwhile. The image is fsynced here; naming it (which needs the
 * term of that index, known only to the driver) is left to the caller.
 *
 * An extra entrypoint of `bun build --compile` (package.json `build`, src/release/build-release.ts).
 */
import { Database } from "bun:sqlite";
import { closeSync, fsyncSync, openSync, statSync } from "node:fs";
import { lastApplied } from "../../state/queries";
import type { ImageRequest, ImageResult } from "./snapshot-image";

declare const self: Worker;

self.onmessage = (event: MessageEvent<ImageRequest>) => {
  const { statePath, temporaryPath } = event.data;
  let reply: ImageResult;
  try {
    const source = new Database(statePath, { readonly: true });
    try {
      source.exec("PRAGMA busy_timeout = 5000");
      source.run("VACUUM INTO ?", [temporaryPath]);
    } finally {
      source.close();
    }
    const image = new Database(temporaryPath, { readonly: true });
    let index: number;
    try {
      index = lastApplied(image);
    } finally {
      image.close();
    }
    const fd = openSync(temporaryPath, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    reply = { ok: true, index, bytes: statSync(temporaryPath).size };
  } catch (error) {
    reply = { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  self.postMessage(reply);
};
