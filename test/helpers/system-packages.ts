/**
 * Tests that need a Debian package the project does not install itself (PyTorch for training,
 * Chromium for the review page, PostgreSQL for the shared store: test/helpers/postgres.ts). On a machine without one,
 * its tests skip with one loud line naming the package and the install command, and the skip
 * is listed again in the summary at the end of the run (test/helpers/skip-reporter.js). With
 * REQUIRE_SYSTEM_PACKAGES=1 (set by .ci/run, which installs them) a missing package fails
 * the run instead: in CI nothing may skip.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';

export interface SystemPackage {
  /** The Debian package. */
  name: string;
  /** What its tests need it for. */
  purpose: string;
  available(): boolean;
}

export const PYTHON3_TORCH: SystemPackage = {
  name: 'python3-torch',
  purpose: 'training the model (src/tools/train/laat.py, run by /usr/bin/python3)',
  available: () => existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0,
};

export const CHROMIUM: SystemPackage = {
  name: 'chromium',
  purpose: 'the review page in a headless browser (/usr/bin/chromium, driven by playwright-core)',
  available: () => existsSync('/usr/bin/chromium'),
};

/** Where skips are recorded for the end-of-run summary (set by test/helpers/global-setup.js). */
const SKIP_LOG = process.env.ICD10_CDS_SKIP_LOG;

/**
 * `describe(title, fn)` when every package is installed; otherwise skipLoudly.
 * @param packages - the Debian packages the tests need
 * @param title - the describe block's title
 * @param fn - the tests
 */
export function describeWithPackages(packages: readonly SystemPackage[], title: string, fn: () => void): void {
  const missing = packages.filter((p) => !p.available());
  if (missing.length === 0) describe(title, fn);
  else
    skipLoudly(
      title,
      missing.map((p) => ({ name: p.name, why: `needs ${p.name} for ${p.purpose}` })),
      fn,
    );
}

/**
 * The tests of `title` cannot run here: one loud line naming what is missing and how to install
 * it, recorded for the end-of-run summary, and the block skipped. With REQUIRE_SYSTEM_PACKAGES=1
 * (CI) a failing test instead, unless `enforce` is false (a test of this mechanism itself).
 * @param title - the describe block's title
 * @param missing - each missing Debian package, and why it is needed or why it was not found
 * @param fn - the tests, declared skipped
 */
export function skipLoudly(title: string, missing: readonly { name: string; why: string }[], fn: () => void, enforce = true): void {
  const names = missing.map((m) => m.name).join(' ');
  const line = `SKIPPED "${title}": ${missing.map((m) => m.why).join('; ')}; install: apt-get install --no-install-recommends ${names}`;
  if (enforce && process.env.REQUIRE_SYSTEM_PACKAGES === '1') {
    test(`${title} (needs ${names})`, () => {
      throw new Error(`${line}\nREQUIRE_SYSTEM_PACKAGES=1: these tests must run here.`);
    });
    return;
  }
  console.warn(line);
  if (enforce && SKIP_LOG) appendFileSync(SKIP_LOG, `${line}\n`);
  describe.skip(title, fn);
}
