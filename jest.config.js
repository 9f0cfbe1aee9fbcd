/** Jest runs the TypeScript sources through ts-jest. The custom environment lets
 * onnxruntime-node accept typed arrays created inside the test sandbox. */
module.exports = {
  testEnvironment: '<rootDir>/test/helpers/ort-environment.js',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30000,
};
