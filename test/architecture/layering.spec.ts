import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { importEdges, layeringViolations } from './layers.js';

// the compiled spec sits in <build>/test/architecture; the sources it reads are the repository's own
const repositoryRoot = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const sourceRoot = join(repositoryRoot, 'src');

describe('the module graph points one way', () => {
  it('no file under src/ imports a layer above its own, a peer folder, or another strategy', () => {
    const edges = importEdges(sourceRoot);
    assert.ok(edges.length > 300, `only ${edges.length} imports were found under ${sourceRoot}: the scan is not reading the sources`);
    assert.deepEqual(layeringViolations(edges), []);
  });

  it('the check itself flags each kind of wrong import', () => {
    const problems = layeringViolations([
      { from: 'downloaders/direct/direct.downloader.ts', to: 'tasks/download.repository.ts' },
      { from: 'downloaders/mediago/mediago.downloader.ts', to: 'downloaders/m3u8/m3u8.downloader.ts' },
      { from: 'scheduler/scheduler.service.ts', to: 'lifecycle/task-lifecycle.service.ts' },
      { from: 'engine/http-client.ts', to: 'downloaders/downloader.interface.ts' },
      { from: 'tasks/download.repository.ts', to: 'events/download-events.ts' },
      { from: 'lifecycle/task-lifecycle.service.ts', to: 'scheduler/scheduler.service.ts' },
      { from: 'downloaders/m3u8/m3u8.downloader.ts', to: 'engine/hls/hls-session.ts' },
      { from: 'downloaders/downloaders.module.ts', to: 'downloaders/m3u8/m3u8.downloader.ts' },
    ]);
    assert.equal(problems.length, 5, problems.join('\n'));
    assert.match(problems[0], /strategies layer must not import the task store/);
    assert.match(problems[1], /code two strategies share belongs in engine/);
    assert.match(problems[2], /scheduler layer must not import the lifecycle layer/);
    assert.match(problems[3], /engine layer must not import the strategies layer/);
    assert.match(problems[4], /tasks\/ and events\/ are peers/);
  });

  it('a folder no layer names fails the check rather than passing unchecked', () => {
    assert.throws(() => layeringViolations([{ from: 'queue/claim.ts', to: 'common/error-codes.ts' }]), /src\/queue\/ is in no layer/);
  });
});
