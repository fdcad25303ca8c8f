/** openDatabase: the connection settings every coordinator database shares. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/db";

const dir = mkdtempSync(join(tmpdir(), "skyclaw-open-db-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** This process's open files that were deleted: where SQLite keeps the temporary files it spills. */
function deletedOpenFiles(): string[] {
  return readdirSync("/proc/self/fd")
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return "";
      }
    })
    .filter((target) => target.endsWith("(deleted)"));
}

test("a savepoint journaling far more than 64 KiB of pages keeps its journal in memory, not in a temporary file", () => {
  const db = openDatabase(join(dir, "state.db"));
  db.exec("CREATE TABLE pages (id INTEGER PRIMARY KEY, data BLOB NOT NULL) STRICT");
  const insert = db.prepare("INSERT INTO pages (data) VALUES (?)");
  db.transaction(() => {
    for (let i = 0; i < 256; i++) insert.run(new Uint8Array(3_000));
  })();
  const before = deletedOpenFiles();

  // Every page rewritten inside a savepoint is journaled first: 256 pages, about 1 MiB. SQLite
  // closes a spilled journal when the transaction ends, so look while it is open.
  let during: string[] = [];
  db.transaction(() => {
    db.exec("SAVEPOINT command");
    db.exec("UPDATE pages SET data = randomblob(3000)");
    db.exec("RELEASE command");
    during = deletedOpenFiles();
  })();

  expect(during).toEqual(before);
  expect(db.query<{ n: number }, []>("SELECT count(*) AS n FROM pages WHERE length(data) = 3000 AND data != zeroblob(3000)").get()!.n).toBe(256);
  db.close();
});
