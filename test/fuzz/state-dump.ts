/**
 * What a refused request must not change: every row of the state tables. The log and the
 * applied index are left out (a command the state machine refuses is still an entry), and so
 * are recorded refusals of idempotency keys (a retry must get the same refusal back).
 */
import { Database } from "bun:sqlite";

const TABLES = ["hosts", "jobs", "job_output", "requirement_sets"];

export class StateDump {
  private readonly db: Database;

  constructor(dbPath: string) {
    this.db = new Database(dbPath, { readonly: true });
  }

  take(): string {
    const tables: Record<string, unknown[]> = {};
    for (const table of TABLES) tables[table] = this.db.query(`SELECT * FROM ${table} ORDER BY 1, 2`).all();
    tables.idempotency_records = this.db
      .query("SELECT key, request_hash, result FROM idempotency_records WHERE json_extract(result, '$.ok') = 1 ORDER BY key")
      .all();
    return JSON.stringify(tables);
  }

  close(): void {
    this.db.close();
  }
}
