/**
 * One table drives both the parsing of the environment and docs/configuration.md: the doc is
 * what `npm run docs:config` writes, and each documented default is what an unset variable gives.
 */
import { readFileSync } from 'node:fs';
import { loadConfig, SETTINGS, type Config, type Setting } from '../../src/config';
import { CONFIGURATION_DOC, configurationDoc } from '../../src/tools/generate-config-doc';

test('docs/configuration.md is up to date (npm run docs:config)', () => {
  expect(readFileSync(CONFIGURATION_DOC, 'utf8')).toBe(configurationDoc());
});

test.each(Object.entries(SETTINGS) as [keyof Config, Setting<unknown>][])('%s: the documented default is the value of an unset variable', (key, setting) => {
  const unset = loadConfig({})[key];
  if (setting.default === undefined) expect(unset === undefined || (Array.isArray(unset) && unset.length === 0)).toBe(true);
  else expect(loadConfig({ [setting.env]: setting.default })[key]).toEqual(unset);
});

test('every variable is named once', () => {
  const names = Object.values(SETTINGS).map((s) => s.env);
  expect(new Set(names).size).toBe(names.length);
});
