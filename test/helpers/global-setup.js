// Jest global setup: a file where tests record what they skipped for lack of a system package
// (test/helpers/system-packages.ts); the workers inherit the variable, the reporter reads it.
const { mkdtempSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

module.exports = async () => {
  if (!process.env.ICD10_CDS_SKIP_LOG) {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'icd10-cds-skips-')), 'skipped.txt');
    writeFileSync(file, '');
    process.env.ICD10_CDS_SKIP_LOG = file;
  }
};
