/** One version of the PostgreSQL schema (index.ts lists them). */
export interface Migration {
  /** 1, 2, …: its position in POSTGRES_MIGRATIONS plus one. */
  version: number;
  /** kebab-case, the file's name without its number. */
  name: string;
  /** One or more statements, run in one transaction. */
  sql: string;
}
