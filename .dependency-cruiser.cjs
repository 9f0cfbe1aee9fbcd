/**
 * The shape of src/ (run by `npm run lint`): no import cycles, inner stages below the edges,
 * the service apart from its tools, and each engine wrapped by exactly one file.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    { name: 'no-cycle', severity: 'error', comment: 'Import cycles, type-only imports included.', from: {}, to: { circular: true } },
    {
      name: 'app-from-main-only',
      severity: 'error',
      comment: 'Only the entry point imports app.ts.',
      from: { pathNot: '^src/main\\.ts$' },
      to: { path: '^src/app\\.ts$' },
    },
    {
      name: 'config-imports-no-feature',
      severity: 'error',
      comment: 'config.ts reads settings; features check their own.',
      from: { path: '^src/config\\.ts$' },
      to: { path: '^src/', pathNot: '^src/paths\\.ts$' },
    },
    { name: 'paths-is-a-leaf', severity: 'error', from: { path: '^src/paths\\.ts$' }, to: { path: '^src/' } },
    {
      name: 'service-never-imports-tools',
      severity: 'error',
      comment: 'Tools may import the service, never the reverse.',
      from: { pathNot: '^src/tools/' },
      to: { path: '^src/tools/' },
    },
    {
      name: 'service-never-imports-web',
      severity: 'error',
      comment: 'The review page is built on its own (src/web/tsconfig.json).',
      from: { pathNot: '^src/web/' },
      to: { path: '^src/web/' },
    },
    {
      name: 'inner-stages-below-edges',
      severity: 'error',
      comment: 'Stages of the data flow never import the edges or HTTP.',
      from: { path: '^src/(analysis|codeset|coding|evidence|model|note|store|suggest\\.ts)' },
      to: { path: '^src/(cds|fhir|http|auth)/|^src/app\\.ts$|node_modules/express/' },
    },
    { name: 'fhir-never-imports-cds', severity: 'error', from: { path: '^src/fhir/' }, to: { path: '^src/cds/' } },
    {
      name: 'one-door-to-onnxruntime',
      severity: 'error',
      from: { pathNot: '^src/(model/session\\.ts|tools/)' },
      to: { path: 'node_modules/onnxruntime-node/' },
    },
    {
      name: 'one-door-to-tokenizers',
      severity: 'error',
      from: { pathNot: '^src/(model/tokenizer\\.ts|tools/)' },
      to: { path: 'node_modules/@huggingface/tokenizers/' },
    },
    { name: 'one-door-to-sqlite', severity: 'error', from: { pathNot: '^src/store/sqlite\\.ts$' }, to: { path: 'node_modules/better-sqlite3/' } },
    { name: 'one-door-to-prom-client', severity: 'error', from: { pathNot: '^src/metrics/metrics\\.ts$' }, to: { path: 'node_modules/prom-client/' } },
    { name: 'one-door-to-postgres', severity: 'error', from: { pathNot: '^src/store/postgres\\.ts$' }, to: { path: 'node_modules/pg/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
