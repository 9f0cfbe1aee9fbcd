/** Jest runs the TypeScript sources through ts-jest. The custom environment lets
 * onnxruntime-node accept typed arrays created inside the test sandbox. */
module.exports = {
  testEnvironment: '<rootDir>/test/helpers/ort-environment.js',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // jose 6 ships only ES modules; node loads them with require(esm), jest's runtime does not,
    // so they are compiled to CommonJS for the tests (nothing else under node_modules is).
    '/node_modules/jose/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022', isolatedModules: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30000,
  // Tests that need a missing system package skip loudly and are summed up at the end (test/helpers/system-packages.ts).
  globalSetup: '<rootDir>/test/helpers/global-setup.js',
  reporters: ['default', '<rootDir>/test/helpers/skip-reporter.js'],
};
