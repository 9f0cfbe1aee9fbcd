/**
 * Reading the MTSamples transcriptions (../shared/data/mtsamples, CSV; never copied into the
 * repository): the CSV parser, and the discharge summaries as notes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/** RFC 4180 CSV rows (quoted fields may hold commas, quotes and line breaks). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/**
 * The discharge summaries of MTSamples, as notes. The corpus flattened each transcription's line
 * breaks into ", ," (and "., " after a sentence): they are restored, so that sections and list
 * items are lines again, as in the EHR.
 * @param dir - the MTSamples directory
 */
export function mtsamplesDischargeSummaries(dir: string): string[] {
  const rows = parseCsv(gunzipSync(readFileSync(path.join(dir, 'mtsamples_discharge_summary.csv.gz'))).toString('utf8'));
  const column = rows[0].indexOf('transcription');
  return rows
    .slice(1)
    .map((r) => r[column] ?? '')
    .filter((t) => t.trim())
    .map((t) => t.replace(/,\s*,/g, '\n').replace(/\.,(?=[A-Z0-9])/g, '.\n'));
}
