/**
 * Opening the coordinator's SQLite file and bringing its schema up to date.
 *
 * The state machine and the log share one file so that "append entry, apply it, record
 * last_applied" is a single transaction. Each component owns its numbered migrations and
 * records how far it got in `schema_migrations`; migrations are append-only.
 */
import { Database, type SQLQueryBindings, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

export function openDatabase(path: string): Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  // FULL: a commit is on disk before we acknowledge it. Group commit keeps this affordable.
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA busy_timeout = 5000");
  // The state machine opens a savepoint per command, and each savepoint journals the pages it
  // touches. Past 64 KiB that journal spills to a temporary file, and from then on every page
  // journaled is a write(2) call; in memory it is a copy.
  db.exec("PRAGMA temp_store = MEMORY");
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (component, version)
  ) STRICT`);
  return db;
}

/** Applies, in order and each in its own transaction, the migrations of `component` not yet applied. */
export function migrate(db: Database, component: string, migrations: readonly string[]): void {
  const applied = db
    .query<{ version: number }, [string]>("SELECT version FROM schema_migrations WHERE component = ?")
    .all(component)
    .map((row) => row.version);
  const done = new Set(applied);
  migrations.forEach((sql, index) => {
    const version = index + 1;
    if (done.has(version)) return;
    db.transaction(() => {
      db.exec(sql);
      db.query("INSERT INTO schema_migrations (component, version) VALUES (?, ?)").run(component, version);
    })();
  });
}

/**
 * INSERT of many rows per statement (up to `chunkRows`, far below SQLite's 32,766 parameters),
 * each statement prepared once per row count: one statement per chunk instead of one per row.
 */
export class MultiRowInsert {
  private readonly statements = new Map<number, Statement>();

  /** `into`: "INSERT INTO t (a, b, c)"; `row`: the placeholders of one row, "(?, 1, ?)". */
  constructor(
    private readonly db: Database,
    private readonly into: string,
    private readonly row: string,
    private readonly chunkRows = 64,
  ) {}

  run(rows: readonly (readonly SQLQueryBindings[])[]): void {
    for (let start = 0; start < rows.length; start += this.chunkRows) {
      const chunk = rows.slice(start, start + this.chunkRows);
      this.statement(chunk.length).run(...chunk.flat());
    }
  }

  private statement(rows: number): Statement {
    let statement = this.statements.get(rows);
    if (statement === undefined) {
      statement = this.db.prepare(`${this.into} VALUES ${Array(rows).fill(this.row).join(", ")}`);
      this.statements.set(rows, statement);
    }
    return statement;
  }
}
