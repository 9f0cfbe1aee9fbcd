import { fhirServerPolicy, isPublicAddress } from '../../../src/auth/fhir-server-policy';
import { fhirBaseOf } from '../../../src/auth/trusted-clients';

const JWT = (iss: string) => ({ scheme: 'jwt' as const, iss, jti: 'j' });
const NONE = { scheme: 'none' as const };

test.each([
  ['127.0.0.1', false],
  ['10.1.2.3', false],
  ['172.20.0.1', false],
  ['192.168.1.1', false],
  ['169.254.169.254', false],
  ['100.64.0.1', false],
  ['0.0.0.0', false],
  ['::1', false],
  ['fd00::1', false],
  ['fe80::1', false],
  ['::ffff:127.0.0.1', false],
  ['8.8.8.8', true],
  ['2606:4700::1111', true],
  ['::ffff:8.8.8.8', true],
  ['not-an-ip', false],
])('isPublicAddress(%s) is %s', (address, expected) => {
  expect(isPublicAddress(address)).toBe(expected);
});

test('fhirBaseOf: origin and path, without trailing slashes, query or credentials', () => {
  expect(fhirBaseOf('https://EHR.example.org/fhir/?x=1#y')).toBe('https://ehr.example.org/fhir');
  expect(fhirBaseOf('ftp://ehr.example.org/fhir')).toBeUndefined();
  expect(fhirBaseOf('https://u:p@ehr.example.org/fhir')).toBeUndefined();
});

describe('with trusted clients', () => {
  const policy = fhirServerPolicy({
    auth: 'on',
    clients: [
      { iss: 'https://ehr.example.org', jku: 'https://ehr.example.org/jwks', fhirServers: ['https://ehr.example.org/fhir'] },
      { iss: 'https://other.example.org', jku: 'https://other.example.org/jwks' },
    ],
    allowPrivate: false,
  });

  test('a listed server is allowed, in any equivalent spelling', async () => {
    expect(await policy.check(JWT('https://ehr.example.org'), 'https://ehr.example.org/fhir/')).toEqual({ allowed: true });
  });

  test("another server, another client's server, or a client without a list is refused", async () => {
    expect(await policy.check(JWT('https://ehr.example.org'), 'https://ehr.example.org/fhir2')).toMatchObject({ allowed: false });
    expect(await policy.check(JWT('https://ehr.example.org'), 'http://169.254.169.254/latest')).toMatchObject({ allowed: false });
    expect(await policy.check(JWT('https://other.example.org'), 'https://ehr.example.org/fhir')).toMatchObject({ allowed: false });
  });
});

describe('with AUTH=off', () => {
  const resolve = async (host: string) => ({ 'public.example.org': ['93.184.216.34'], 'inside.example.org': ['93.184.216.34', '10.0.0.5'] })[host] ?? [];
  const strict = fhirServerPolicy({ auth: 'off', clients: [], allowPrivate: false, resolve });

  test('public addresses are allowed; loopback, private, metadata and names resolving to them are refused', async () => {
    expect(await strict.check(NONE, 'https://public.example.org/fhir')).toEqual({ allowed: true });
    for (const url of [
      'http://127.0.0.1:8080/fhir',
      'http://[::1]/fhir',
      'http://169.254.169.254/',
      'https://inside.example.org/fhir',
      'https://unknown.example.org/fhir',
    ]) {
      expect(await strict.check(NONE, url)).toMatchObject({ allowed: false });
    }
  });

  test('ALLOW_PRIVATE_FHIR_SERVERS=on allows them (local testing)', async () => {
    const open = fhirServerPolicy({ auth: 'off', clients: [], allowPrivate: true, resolve });
    expect(await open.check(NONE, 'http://127.0.0.1:8080/fhir')).toEqual({ allowed: true });
  });
});
