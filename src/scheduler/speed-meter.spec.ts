import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpeedMeter, deriveProgress } from './speed-meter.js';

/** A meter fed `bytesPerSecond` every `stepMs` from `from` to `to` (ms), continuing from `startBytes`. */
function feed(meter: SpeedMeter, { from, to, bytesPerSecond, stepMs = 500, startBytes = 0 }: { from: number; to: number; bytesPerSecond: number; stepMs?: number; startBytes?: number }): number {
  let bytes = startBytes;
  for (let at = from; at <= to; at += stepMs) {
    bytes = startBytes + Math.round(((at - from) * bytesPerSecond) / 1000);
    meter.record(bytes, at);
  }
  return bytes;
}

describe('SpeedMeter', () => {
  it('is 0 before any sample, and with a single sample', () => {
    const meter = new SpeedMeter();
    assert.equal(meter.speed(1_000), 0);
    meter.record(5_000, 1_000);
    assert.equal(meter.speed(1_000), 0);
  });

  it('is 0 while less than 250 ms of samples exist', () => {
    const meter = new SpeedMeter();
    meter.record(0, 0);
    meter.record(1_000, 200);
    assert.equal(meter.speed(200), 0);
    assert.equal(meter.speed(250), 4_000);
  });

  it('measures a steady rate', () => {
    const meter = new SpeedMeter();
    feed(meter, { from: 0, to: 3_000, bytesPerSecond: 2_000 });
    assert.equal(meter.speed(3_000), 2_000);
  });

  it('averages over the window only: an old fast phase does not count', () => {
    const meter = new SpeedMeter(5_000);
    const bytes = feed(meter, { from: 0, to: 20_000, bytesPerSecond: 100_000, stepMs: 1_000 });
    feed(meter, { from: 20_000, to: 40_000, bytesPerSecond: 1_000, stepMs: 1_000, startBytes: bytes });
    assert.equal(meter.speed(40_000), 1_000);
  });

  it('follows a change of rate within about one window', () => {
    const meter = new SpeedMeter(2_000);
    const bytes = feed(meter, { from: 0, to: 10_000, bytesPerSecond: 1_000 });
    feed(meter, { from: 10_000, to: 13_000, bytesPerSecond: 9_000, startBytes: bytes });
    assert.equal(meter.speed(13_000), 9_000);
  });

  it('starts over when the byte count goes back (a restart from zero)', () => {
    const meter = new SpeedMeter();
    feed(meter, { from: 0, to: 4_000, bytesPerSecond: 50_000 });
    meter.record(0, 5_000);
    assert.equal(meter.speed(5_000), 0, 'no negative or stale speed right after the restart');
    meter.record(3_000, 6_000);
    assert.equal(meter.speed(6_000), 3_000);
  });

  it('decays while the source is silent', () => {
    const meter = new SpeedMeter(5_000);
    feed(meter, { from: 0, to: 5_000, bytesPerSecond: 10_000 });
    const speeds = [5_000, 6_000, 8_000, 10_000].map((at) => meter.speed(at));
    assert.equal(speeds[0], 10_000);
    for (let index = 1; index < speeds.length; index++) assert.ok(speeds[index] < speeds[index - 1], `speeds ${speeds.join(', ')} fall`);
  });

  it('shows 0 once the source has been silent for longer than the window', () => {
    const meter = new SpeedMeter(5_000);
    feed(meter, { from: 0, to: 5_000, bytesPerSecond: 10_000 });
    // nothing arrived during the last five seconds: the moving average over them is 0
    assert.equal(meter.speed(30_000), 0);
  });

  it('reaches 0 when silence is recorded as unchanged byte counts', () => {
    const meter = new SpeedMeter(5_000);
    const bytes = feed(meter, { from: 0, to: 5_000, bytesPerSecond: 10_000 });
    feed(meter, { from: 5_000, to: 11_000, bytesPerSecond: 0, startBytes: bytes });
    assert.equal(meter.speed(11_000), 0);
  });

  it('never reports a speed for a time before the last sample', () => {
    const meter = new SpeedMeter();
    feed(meter, { from: 0, to: 2_000, bytesPerSecond: 1_000 });
    assert.equal(meter.speed(1_000), 1_000);
  });
});

describe('deriveProgress', () => {
  it('computes percent and ETA from a known total', () => {
    assert.deepEqual(deriveProgress(500, 1_000, null, 100), { downloadedBytes: 500, totalBytes: 1_000, percent: 50, speed: 100, eta: 5 });
  });

  it('rounds percent down to one decimal, so 100 means done', () => {
    assert.equal(deriveProgress(1, 3, null, 0).percent, 33.3);
    assert.equal(deriveProgress(2, 3, null, 0).percent, 66.6);
    assert.equal(deriveProgress(999_999, 1_000_000, null, 0).percent, 99.9);
    assert.equal(deriveProgress(1_000_000, 1_000_000, null, 0).percent, 100);
    for (let done = 0; done <= 100; done++) assert.equal(deriveProgress(done, 100, null, 0).percent, done, `${done} of 100`);
  });

  it('rounds ETA up to whole seconds and never below 0', () => {
    assert.equal(deriveProgress(0, 1_001, null, 100).eta, 11);
    assert.equal(deriveProgress(1_000, 1_000, null, 100).eta, 0);
    const over = deriveProgress(1_500, 1_000, null, 100);
    assert.equal(over.eta, 0);
    assert.equal(over.percent, 100);
  });

  it('has no ETA while nothing moves', () => {
    assert.equal(deriveProgress(10, 100, null, 0).eta, null);
  });

  it('uses the strategy hint while the total is unknown, clamped to 0–100, one decimal', () => {
    assert.deepEqual(deriveProgress(4_096, null, 42.37, 1_000), { downloadedBytes: 4_096, totalBytes: null, percent: 42.3, speed: 1_000, eta: null });
    assert.equal(deriveProgress(0, null, 150, 0).percent, 100);
    assert.equal(deriveProgress(0, null, -3, 0).percent, 0);
    assert.equal(deriveProgress(0, 0, 12.5, 10).percent, 12.5, 'a zero total counts as unknown');
    assert.equal(deriveProgress(0, 0, 12.5, 10).eta, null);
  });

  it('prefers bytes over the hint when the total is known', () => {
    assert.equal(deriveProgress(250, 1_000, 90, 0).percent, 25);
  });

  it('has no percent without a total or a hint', () => {
    assert.equal(deriveProgress(123, null, null, 50).percent, null);
    assert.equal(deriveProgress(123, null, undefined, 50).percent, null);
    assert.equal(deriveProgress(123, null, undefined, 50).eta, null);
  });
});
