import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../../src/config';

test('defaults', () => {
  const config = loadConfig({});
  expect(config).toEqual({
    port: 8080,
    host: '127.0.0.1',
    modelDir: path.join(PROJECT_ROOT, 'models', 'default'),
    ortThreads: 0,
    logLevel: 'info',
    maxBodyBytes: 5 * 1024 * 1024,
    maxNoteChars: 200_000,
    publicBaseUrl: undefined,
    fhirTimeoutMs: 5000,
    dischargeSummaryLoinc: ['18842-5'],
    suppressAssertions: ['negated', 'family', 'hypothetical'],
  });
  expect(Object.isFrozen(config)).toBe(true);
});

test('values are parsed and every problem is reported at once', () => {
  expect(loadConfig({ PORT: '9000', HOST: '0.0.0.0', PUBLIC_BASE_URL: 'https://cds.example.org/', DISCHARGE_SUMMARY_LOINC: '18842-5, 11490-0' }))
    .toMatchObject({ port: 9000, host: '0.0.0.0', publicBaseUrl: 'https://cds.example.org', dischargeSummaryLoinc: ['18842-5', '11490-0'] });
  expect(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', PUBLIC_BASE_URL: 'ftp://x', DISCHARGE_SUMMARY_LOINC: 'abc' })).toThrow(
    'Invalid configuration:\n- LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent\n- PUBLIC_BASE_URL must be an absolute http(s) URL\n' +
      '- DISCHARGE_SUMMARY_LOINC must be comma-separated LOINC codes such as 18842-5\n- PORT must be an integer between 0 and 65535',
  );
});

test('SUPPRESS_ASSERTIONS: a list of statuses, or none', () => {
  expect(loadConfig({ SUPPRESS_ASSERTIONS: 'negated, family' }).suppressAssertions).toEqual(['negated', 'family']);
  expect(loadConfig({ SUPPRESS_ASSERTIONS: 'none' }).suppressAssertions).toEqual([]);
  expect(() => loadConfig({ SUPPRESS_ASSERTIONS: 'present' })).toThrow('SUPPRESS_ASSERTIONS must be "none" or comma-separated statuses');
  expect(() => loadConfig({ SUPPRESS_ASSERTIONS: 'denied' })).toThrow('SUPPRESS_ASSERTIONS must be');
});
