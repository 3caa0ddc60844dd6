import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { type TestApp, startTestApp } from './helpers/app-harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe("the dashboard's API types", () => {
  let test: TestApp;

  before(async () => {
    test = await startTestApp();
  });

  after(async () => {
    await test.close();
  });

  it('match the OpenAPI document the service serves (run `npm run api:types` after changing the API)', async () => {
    const { renderApiTypes } = await import(pathToFileURL(join(ROOT, 'scripts', 'generate-api-types.mjs')).href);
    const document = await (await fetch(`${test.baseUrl}/docs-json`)).json();
    const committed = await readFile(join(ROOT, 'web', 'src', 'api', 'schema.d.ts'), 'utf8');
    assert.ok(committed === (await renderApiTypes(document)), 'web/src/api/schema.d.ts is stale: run `npm run api:types`');
  });
});
