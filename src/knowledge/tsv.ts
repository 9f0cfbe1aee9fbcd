/**
 * The project's coding-knowledge files (models/knowledge/*.tsv): plain tab-separated tables a
 * coder can review, each opening with `#` lines that name its source, then a header row.
 */
import { readFile } from 'node:fs/promises';

/** The rows of a table, keyed by the header's column names. */
export type TsvRow = Readonly<Record<string, string>>;

/**
 * Reads one table and checks it has the columns the reader needs.
 * @param file - the .tsv file
 * @param columns - columns every row must have (non-empty)
 * @throws Error naming the file, line and column of the first problem
 */
export async function readTsv(file: string, columns: readonly string[]): Promise<TsvRow[]> {
  const lines = (await readFile(file, 'utf8')).split(/\r?\n/);
  const content = lines.map((line, i) => ({ line, n: i + 1 })).filter(({ line }) => line.trim() !== '' && !line.startsWith('#'));
  if (content.length === 0) throw new Error(`${file}: no header row`);
  const header = content[0].line.split('\t').map((c) => c.trim());
  for (const c of columns) if (!header.includes(c)) throw new Error(`${file}: column "${c}" is missing from the header`);
  return content.slice(1).map(({ line, n }) => {
    const cells = line.split('\t');
    const row: Record<string, string> = {};
    header.forEach((name, i) => (row[name] = (cells[i] ?? '').trim()));
    for (const c of columns) if (!row[c]) throw new Error(`${file}:${n}: column "${c}" is empty`);
    return row;
  });
}
