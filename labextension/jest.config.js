// jest: ts-jest over our sources and the ES-module packages JupyterLab ships; styles are stubbed.
const esm = [
  '@jupyterlab',
  '@jupyter',
  '@lumino',
  '@microsoft',
  '@codemirror',
  '@lezer',
  'exenv-es6',
  'lib0',
  'y-protocols',
  'yjs',
  'nanoid',
  'vscode-ws-jsonrpc',
  'marked',
  'react-toastify'
].join('|');

module.exports = {
  testEnvironment: 'jsdom',
  testRegex: "src/__tests__/.*\\.spec\\.tsx?$",
  transform: {
    '^.+\\.(t|j)sx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json', diagnostics: false }]
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esm})/)`],
  moduleNameMapper: { '\\.(css|svg)$': '<rootDir>/tools/jest-style-stub.js' },
  setupFiles: ['<rootDir>/tools/jest-setup.js']
};
