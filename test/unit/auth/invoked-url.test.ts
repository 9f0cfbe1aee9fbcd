import { audienceNames, comparableUrlOf } from '../../../src/auth/invoked-url';

const URL_ = 'https://cds.example.org/cds-services/icd10cm-suggestions';

test.each<[unknown, boolean]>([
  [URL_, true],
  [`${URL_}/`, true],
  ['HTTPS://CDS.EXAMPLE.ORG:443/cds-services/icd10cm-suggestions', true],
  [`${URL_}?tenant=1`, true],
  [[`${URL_}/feedback`, URL_], true],
  ['http://cds.example.org/cds-services/icd10cm-suggestions', false],
  ['https://cds.example.org/cds-services/ICD10CM-suggestions', false],
  ['https://cds.example.org/cds-services/icd10cm-suggestions/feedback', false],
  ['https://cds.example.org/cds-services', false],
  ['https://cds.example.org:8443/cds-services/icd10cm-suggestions', false],
  ['/cds-services/icd10cm-suggestions', false],
  [42, false],
  [undefined, false],
])('aud %p names the service: %p', (aud, expected) => {
  expect(audienceNames(aud, URL_)).toBe(expected);
});

test('percent-encoding is not undone: $ and %24 are different URLs', () => {
  expect(comparableUrlOf('https://x/fhir/DocumentReference/$suggest-conditions')).not.toBe(
    comparableUrlOf('https://x/fhir/DocumentReference/%24suggest-conditions'),
  );
});
