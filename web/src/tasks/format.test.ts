import { describe, expect, it } from 'vitest';
import { formatBytes, formatEta, formatPercent, formatSpeed } from './format';

describe('formatting', () => {
  it('sizes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(256 * 1024 * 1024)).toBe('256 MiB');
    expect(formatBytes(null)).toBe('?');
  });
  it('speeds, blank when idle', () => {
    expect(formatSpeed(0)).toBe('');
    expect(formatSpeed(2 * 1024 * 1024)).toBe('2.0 MiB/s');
  });
  it('times left', () => {
    expect(formatEta(null)).toBe('');
    expect(formatEta(42)).toBe('42 s');
    expect(formatEta(75)).toBe('1 min 15 s');
    expect(formatEta(3725)).toBe('1 h 2 min');
  });
  it('percentages', () => {
    expect(formatPercent(null)).toBe('');
    expect(formatPercent(5.25)).toBe('5.3%');
    expect(formatPercent(100)).toBe('100%');
  });
});
