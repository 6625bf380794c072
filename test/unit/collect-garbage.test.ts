import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { collectAllGarbage, collectYoungGarbage } from '../../src/data/collect-garbage';

describe('collectYoungGarbage', () => {
  it('runs a young-generation collection, whatever flags the process was started with', () => {
    const profiler = new v8.GCProfiler();
    profiler.start();
    collectYoungGarbage();
    const collections = profiler.stop().statistics.map((s) => s.gcType);
    assert.ok(
      collections.some((type) => type === 'Scavenge' || type === 'MinorMarkSweep'),
      `collections seen: ${collections.join(', ') || 'none'}`,
    );
    assert.ok(!collections.includes('MarkSweepCompact'), 'a full collection is not needed for what dies young');
  });

  it('runs a full collection when asked for one (a benchmark reading live memory)', () => {
    const profiler = new v8.GCProfiler();
    profiler.start();
    collectAllGarbage();
    const collections = profiler.stop().statistics.map((s) => s.gcType);
    assert.ok(collections.includes('MarkSweepCompact'), `collections seen: ${collections.join(', ') || 'none'}`);
  });

  it('leaves no `gc` behind for contexts made later (a workflow sandbox must not see one)', () => {
    collectYoungGarbage();
    assert.equal(vm.runInNewContext('typeof gc'), 'undefined');
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  });
});
