import { parseTrustedClients } from '../../../src/auth/trusted-clients';

const EC = { kty: 'EC', crv: 'P-384', kid: 'k1', x: 'x', y: 'y', use: 'sig', alg: 'ES384' };
const RSA = { kty: 'RSA', kid: 'k2', e: 'AQAB', n: 'n'.repeat(342), alg: 'RS384' };

test('inline keys, a jku, or both', () => {
  const list = [
    { iss: 'https://a.example.org', jwks: { keys: [EC, RSA] } },
    { iss: 'https://b.example.org', jku: 'https://b.example.org/jwks.json' },
    { iss: 'https://c.example.org/', jwks: { keys: [EC] }, jku: 'http://127.0.0.1:9999/jwks' },
  ];
  expect(parseTrustedClients(list)).toEqual({ clients: list, problems: [] });
});

test('fhirServers are kept as base URLs without trailing slashes', () => {
  const list = [{ iss: 'a', jku: 'https://a/j', fhirServers: ['https://ehr.example.org/fhir/', 'http://127.0.0.1:8081/r4'] }];
  expect(parseTrustedClients(list).clients[0].fhirServers).toEqual(['https://ehr.example.org/fhir', 'http://127.0.0.1:8081/r4']);
});

test.each<[string, unknown, string[]]>([
  ['not a list', { iss: 'x' }, ['CDS_CLIENTS must hold a JSON array of {"iss", "jwks" and/or "jku"} objects']],
  ['not an object', ['x'], ['CDS_CLIENTS[0] must be a JSON object']],
  ['no iss, no keys', [{}], ['CDS_CLIENTS[0].iss must be a non-empty string', 'CDS_CLIENTS[0] needs "jwks" or "jku" (or both)']],
  [
    'a typo',
    [{ iss: 'a', jwks_uri: 'https://a/jwks' }],
    ['CDS_CLIENTS[0].jwks_uri is not a known member (iss, jwks, jku, fhirServers)', 'CDS_CLIENTS[0] needs "jwks" or "jku" (or both)'],
  ],
  [
    'issuer twice',
    [
      { iss: 'a', jku: 'https://a/j' },
      { iss: 'a', jku: 'https://a/k' },
    ],
    ['CDS_CLIENTS[1].iss repeats an issuer listed before'],
  ],
  ['empty key set', [{ iss: 'a', jwks: { keys: [] } }], ['CDS_CLIENTS[0].jwks must be a JWK Set: {"keys": [ ... ]} with at least one key']],
  [
    'private key',
    [{ iss: 'a', jwks: { keys: [{ ...EC, d: 'secret' }] } }],
    ['CDS_CLIENTS[0].jwks.keys[0] holds private key material (d): give public keys only'],
  ],
  [
    'symmetric key',
    [{ iss: 'a', jwks: { keys: [{ kty: 'oct', kid: 'h', k: 'c2VjcmV0' }] } }],
    ['CDS_CLIENTS[0].jwks.keys[0] holds private key material (k): give public keys only'],
  ],
  [
    'no kid',
    [{ iss: 'a', jwks: { keys: [{ ...EC, kid: undefined }] } }],
    ['CDS_CLIENTS[0].jwks.keys[0].kid must be a non-empty string (tokens select their key by kid)'],
  ],
  ['P-256 key', [{ iss: 'a', jwks: { keys: [{ ...EC, crv: 'P-256', alg: undefined }] } }], ['CDS_CLIENTS[0].jwks.keys[0].crv must be P-384 (ES384)']],
  ['HS256 alg', [{ iss: 'a', jwks: { keys: [{ ...EC, alg: 'HS256' }] } }], ['CDS_CLIENTS[0].jwks.keys[0].alg must be ES384 or RS384 when present']],
  ['encryption key', [{ iss: 'a', jwks: { keys: [{ ...EC, use: 'enc' }] } }], ['CDS_CLIENTS[0].jwks.keys[0].use must be "sig" when present']],
  ['short RSA key', [{ iss: 'a', jwks: { keys: [{ ...RSA, n: 'n'.repeat(171) }] } }], ['CDS_CLIENTS[0].jwks.keys[0].n is shorter than 2048 bits']],
  ['same kid twice', [{ iss: 'a', jwks: { keys: [EC, EC] } }], ['CDS_CLIENTS[0].jwks has two keys with the same kid']],
  ['jku over http elsewhere', [{ iss: 'a', jku: 'http://ehr.example.org/jwks' }], ['CDS_CLIENTS[0].jku must be an https URL (http only on localhost)']],
  ['jku not a URL', [{ iss: 'a', jku: '/jwks' }], ['CDS_CLIENTS[0].jku must be an absolute URL']],
  [
    'fhirServers not a list',
    [{ iss: 'a', jku: 'https://a/j', fhirServers: 'https://ehr/fhir' }],
    ['CDS_CLIENTS[0].fhirServers must be an array of FHIR server base URLs'],
  ],
  [
    'fhirServer over http elsewhere',
    [{ iss: 'a', jku: 'https://a/j', fhirServers: ['http://ehr.example.org/fhir'] }],
    ['CDS_CLIENTS[0].fhirServers[0] must be an https URL (http only on localhost)'],
  ],
  [
    'fhirServer with credentials',
    [{ iss: 'a', jku: 'https://a/j', fhirServers: ['https://u:p@ehr.example.org/fhir'] }],
    ['CDS_CLIENTS[0].fhirServers[0] must be an http(s) base URL without credentials'],
  ],
])('%s', (_name, json, problems) => {
  expect(parseTrustedClients(json)).toEqual({ clients: [], problems });
});
