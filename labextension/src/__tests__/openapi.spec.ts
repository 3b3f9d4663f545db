/**
 * The committed API types are exactly what openapi-typescript makes of the service's OpenAPI document:
 * when the document changes, `npm run gen:api` must be run (and the compiler then checks every use).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');

it('src/api/openapi.d.ts is generated from grader_service/api/openapi.json', () => {
  const cli = path.join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
  const generated = execFileSync(process.execPath, [cli, '../grader_service/api/openapi.json'], {
    cwd: root,
    encoding: 'utf-8',
    stdio: ['ignore', 'pipe', 'ignore']
  });
  const committed = fs.readFileSync(path.join(root, 'src', 'api', 'openapi.d.ts'), 'utf-8');
  expect(committed === generated).toBe(true); // if not: run `npm run gen:api` in labextension/
});
