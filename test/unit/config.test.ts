import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { trustedClientsOf } from '../../src/auth/trusted-clients';
import { loadConfig } from '../../src/config';
import { PROJECT_ROOT } from '../../src/paths';

test('defaults', () => {
  const config = loadConfig({});
  expect(config).toEqual({
    port: 8080,
    host: '127.0.0.1',
    modelDir: path.join(PROJECT_ROOT, 'models', 'default'),
    engine: 'both',
    codeSetDir: path.join(PROJECT_ROOT, 'models', 'icd10cm-2023'),
    knowledgeDir: path.join(PROJECT_ROOT, 'models', 'knowledge'),
    rankerDir: path.join(PROJECT_ROOT, 'models', 'ranker'),
    ortThreads: 0,
    logLevel: 'info',
    maxBodyBytes: 5 * 1024 * 1024,
    maxNoteChars: 200_000,
    maxJsonDepth: 64,
    shutdownDrainMs: 20_000,
    publicBaseUrl: undefined,
    fhirTimeoutMs: 5000,
    dischargeSummaryLoinc: ['18842-5'],
    suppressAssertions: ['negated', 'family', 'hypothetical'],
    auth: 'on',
    cdsClients: [],
    fhirTokens: [],
    hookTimeBudgetMs: 400,
    authClockSkewSeconds: 60,
    allowPrivateFhirServers: 'off',
    corsOrigins: ['*'],
    storePath: path.join(PROJECT_ROOT, 'data', 'icd10-cds.sqlite'),
    storeUrl: undefined,
    storePoolSize: 10,
    storeStatementTimeoutMs: 5000,
    storeConnectTimeoutMs: 5000,
    analysisQueueMax: 64,
    analysisWorkers: 1,
    resultCache: 'on',
    resultCacheTtlHours: 24,
    role: 'all',
    jobLeaseSeconds: 30,
    jobPollSeconds: 2,
    jobConcurrency: 1,
    jobOutputTtlHours: 24,
    jobMaxDocuments: 1000,
    jobMaxBodyBytes: 67108864,
    metrics: 'off',
    metricsToken: undefined,
  });
  expect(Object.isFrozen(config)).toBe(true);
});

test('ROLE and the bulk job settings', () => {
  expect(loadConfig({ ROLE: 'worker', JOB_LEASE_SECONDS: '6', JOB_CONCURRENCY: '2' })).toMatchObject({ role: 'worker', jobLeaseSeconds: 6, jobConcurrency: 2 });
  expect(() => loadConfig({ ROLE: 'scheduler', JOB_LEASE_SECONDS: '1', JOB_MAX_DOCUMENTS: '0' })).toThrow(
    /ROLE must be "api", "worker" or "all"[\s\S]*JOB_LEASE_SECONDS[\s\S]*JOB_MAX_DOCUMENTS/,
  );
});

test('values are parsed and every problem is reported at once', () => {
  expect(loadConfig({ PORT: '9000', HOST: '0.0.0.0', PUBLIC_BASE_URL: 'https://cds.example.org/', DISCHARGE_SUMMARY_LOINC: '18842-5, 11490-0' })).toMatchObject(
    { port: 9000, host: '0.0.0.0', publicBaseUrl: 'https://cds.example.org', dischargeSummaryLoinc: ['18842-5', '11490-0'] },
  );
  // Problems are listed in the order of the settings table (config.ts SETTINGS).
  expect(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', PUBLIC_BASE_URL: 'ftp://x', DISCHARGE_SUMMARY_LOINC: 'abc' })).toThrow(
    'Invalid configuration:\n- PORT must be an integer between 0 and 65535\n- PUBLIC_BASE_URL must be an absolute http(s) URL\n' +
      '- LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent\n- DISCHARGE_SUMMARY_LOINC must be comma-separated LOINC codes such as 18842-5',
  );
});

test('STORE_URL: postgres:// or postgresql:// selects PostgreSQL; anything else is refused without echoing it', () => {
  expect(loadConfig({}).storeUrl).toBeUndefined();
  expect(loadConfig({ STORE_URL: 'postgres://u:secret@db:5432/icd10', STORE_POOL_SIZE: '4', STORE_STATEMENT_TIMEOUT_MS: '2000' })).toMatchObject({
    storeUrl: 'postgres://u:secret@db:5432/icd10',
    storePoolSize: 4,
    storeStatementTimeoutMs: 2000,
    storeConnectTimeoutMs: 5000,
  });
  expect(loadConfig({ STORE_URL: 'postgresql://u@db/icd10' }).storeUrl).toBe('postgresql://u@db/icd10');
  let message = '';
  try {
    loadConfig({ STORE_URL: 'mysql://u:secret@db/icd10', STORE_POOL_SIZE: '0' });
  } catch (error) {
    message = (error as Error).message;
  }
  expect(message).toBe(
    'Invalid configuration:\n- STORE_URL must be a postgres:// or postgresql:// URL (user:password@host:port/database)\n' +
      '- STORE_POOL_SIZE must be an integer between 1 and 1000',
  );
});

test('SUPPRESS_ASSERTIONS: a list of statuses, or none', () => {
  expect(loadConfig({ SUPPRESS_ASSERTIONS: 'negated, family' }).suppressAssertions).toEqual(['negated', 'family']);
  expect(loadConfig({ SUPPRESS_ASSERTIONS: 'none' }).suppressAssertions).toEqual([]);
  expect(() => loadConfig({ SUPPRESS_ASSERTIONS: 'present' })).toThrow('SUPPRESS_ASSERTIONS must be "none" or comma-separated statuses');
  expect(() => loadConfig({ SUPPRESS_ASSERTIONS: 'denied' })).toThrow('SUPPRESS_ASSERTIONS must be');
});

test('STORE_PATH: a file path (resolved), or :memory:', () => {
  expect(loadConfig({ STORE_PATH: 'var/audit.sqlite' }).storePath).toBe(path.resolve('var/audit.sqlite'));
  expect(loadConfig({ STORE_PATH: ':memory:' }).storePath).toBe(':memory:');
});

describe('authentication settings', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'icd10-cds-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    writeFileSync(path.join(dir, name), content);
    return path.join(dir, name);
  };
  const EC = { kty: 'EC', crv: 'P-384', kid: 'k1', x: 'x', y: 'y' };

  test('AUTH is on unless it says off', () => {
    expect(loadConfig({ AUTH: 'off' }).auth).toBe('off');
    expect(() => loadConfig({ AUTH: 'false' })).toThrow('AUTH must be "on" or "off"');
  });

  test('CDS_CLIENTS: the file is read here, its entries checked by auth/trusted-clients at start-up, every problem listed', () => {
    const clients = [{ iss: 'https://ehr.example.org', jwks: { keys: [EC] } }];
    expect(trustedClientsOf(loadConfig({ CDS_CLIENTS: file('ok.json', JSON.stringify(clients)) }))).toEqual(clients);
    expect(() =>
      trustedClientsOf(
        loadConfig({ CDS_CLIENTS: file('bad.json', JSON.stringify([{ iss: 'a', jku: 'http://ehr/jwks' }, { jwks: { keys: [{ ...EC, d: 'x' }] } }])) }),
      ),
    ).toThrow(
      'Invalid configuration:\n- CDS_CLIENTS[0].jku must be an https URL (http only on localhost)\n- CDS_CLIENTS[1].iss must be a non-empty string\n' +
        '- CDS_CLIENTS[1].jwks.keys[0] holds private key material (d): give public keys only',
    );
    expect(() => loadConfig({ CDS_CLIENTS: path.join(dir, 'missing.json') })).toThrow(
      `CDS_CLIENTS file ${path.join(dir, 'missing.json')} cannot be read (ENOENT)`,
    );
    expect(() => loadConfig({ CDS_CLIENTS: file('broken.json', '[{') })).toThrow('is not valid JSON');
  });

  test('METRICS and METRICS_TOKEN: a long visible-ASCII token, never echoed in the message', () => {
    const token = 'm'.repeat(32);
    expect(loadConfig({ METRICS: 'on', METRICS_TOKEN: token })).toMatchObject({ metrics: 'on', metricsToken: token });
    expect(() => loadConfig({ METRICS: 'yes' })).toThrow('METRICS must be "on" or "off"');
    let message = '';
    try {
      loadConfig({ METRICS_TOKEN: 'short-metrics-secret' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('METRICS_TOKEN must be a token of at least 32 visible ASCII characters');
    expect(message).not.toContain('short-metrics-secret');
  });

  test('FHIR_TOKENS: long visible-ASCII tokens only, never echoed in the message', () => {
    const [a, b] = ['a'.repeat(32), `${'b'.repeat(39)}~`];
    expect(loadConfig({ FHIR_TOKENS: ` ${a}, ${b} ` }).fhirTokens).toEqual([a, b]);
    let message = '';
    try {
      loadConfig({ FHIR_TOKENS: `${a},short-secret` });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('FHIR_TOKENS must be comma-separated tokens of at least 32 visible ASCII characters each');
    expect(message).not.toContain('short-secret');
  });

  test('AUTH_CLOCK_SKEW_SECONDS and CORS_ORIGINS', () => {
    expect(loadConfig({ AUTH_CLOCK_SKEW_SECONDS: '30', CORS_ORIGINS: 'https://ehr.example.org, http://localhost:3000/' })).toMatchObject({
      authClockSkewSeconds: 30,
      corsOrigins: ['https://ehr.example.org', 'http://localhost:3000'],
    });
    expect(() => loadConfig({ AUTH_CLOCK_SKEW_SECONDS: '3600' })).toThrow('AUTH_CLOCK_SKEW_SECONDS must be an integer between 0 and 300');
    expect(() => loadConfig({ CORS_ORIGINS: 'https://ehr.example.org/app' })).toThrow('CORS_ORIGINS must be "*" or comma-separated origins');
  });
});
