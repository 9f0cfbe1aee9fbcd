// Jest reporter: at the end of the run, the summary of the tests skipped for lack of a system
// package (test/helpers/system-packages.ts). With REQUIRE_SYSTEM_PACKAGES=1 (CI) any such skip
// fails the run.
const { readFileSync, rmSync } = require('node:fs');
const path = require('node:path');

class SkipReporter {
  onRunComplete() {
    const file = process.env.ICD10_CDS_SKIP_LOG;
    let lines = [];
    try {
      lines = [...new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean))];
      rmSync(path.dirname(file), { recursive: true, force: true });
    } catch {
      // No file: nothing was recorded.
    }
    if (lines.length === 0) return;
    process.stderr.write(`\nTests skipped for lack of a system package (${lines.length}):\n${lines.map((l) => `  - ${l}`).join('\n')}\n`);
    if (process.env.REQUIRE_SYSTEM_PACKAGES === '1') this.error = new Error('REQUIRE_SYSTEM_PACKAGES=1 and tests were skipped');
  }

  getLastError() {
    return this.error;
  }
}

module.exports = SkipReporter;
