// Builds the prebuilt extension with @jupyterlab/builder, no Python JupyterLab needed: the builder reads the
// core package's shared/singleton lists from <core-path>/package.json, which @jupyterlab/core-meta ships as
// core.package.json, so it is copied into a core dir under node_modules/.cache first.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const here = path.resolve(__dirname, '..');
const coreDir = path.join(here, 'node_modules', '.cache', 'grader-core');
fs.mkdirSync(coreDir, { recursive: true });
fs.copyFileSync(
  require.resolve('@jupyterlab/core-meta/core.package.json', { paths: [here] }),
  path.join(coreDir, 'package.json')
);
const builder = require.resolve('@jupyterlab/builder/lib/build-labextension.js', { paths: [here] });
execFileSync(process.execPath, [builder, '--core-path', coreDir, ...process.argv.slice(2), here], {
  stdio: 'inherit'
});
