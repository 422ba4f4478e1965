import { describe, expect, it } from 'vitest';
import { PeakEwma } from './peak-ewma.js';

const TAU = 10_000;

describe('PeakEwma', () => {
  it('starts at the default RTT with no samples', () => {
    const ewma = new PeakEwma(30, 0);
    expect(ewma.read(0, TAU)).toBe(30);
    expect(ewma.samples).toBe(0);
  });

  it('decays toward zero by e^(−Δt/τ) on read', () => {
    const ewma = new PeakEwma(30, 0);
    expect(ewma.read(TAU, TAU)).toBeCloseTo(30 * Math.exp(-1), 12);
    expect(ewma.read(2 * TAU, TAU)).toBeCloseTo(30 * Math.exp(-2), 12);
  });

  it('jumps to a slower sample at once (peak sensitivity)', () => {
    const ewma = new PeakEwma(30, 0);
    ewma.observe(250, 5, TAU);
    expect(ewma.read(5, TAU)).toBe(250);
    expect(ewma.samples).toBe(1);
  });

  it('replaces the default with the first sample, even a faster one', () => {
    const ewma = new PeakEwma(30, 0);
    ewma.observe(4, 0, TAU);
    expect(ewma.read(0, TAU)).toBe(4);
  });

  it('blends a later faster sample with weight 1 − e^(−Δt/τ)', () => {
    const ewma = new PeakEwma(30, 0);
    ewma.observe(100, 0, TAU);
    ewma.observe(20, TAU, TAU);
    const d = Math.exp(-1);
    expect(ewma.read(TAU, TAU)).toBeCloseTo(100 * d + 20 * (1 - d), 12);
  });

  it('re-anchors on read, so a read just before a faster sample leaves it almost unweighted', () => {
    const ewma = new PeakEwma(30, 0);
    ewma.observe(100, 0, TAU);
    const decayed = ewma.read(TAU, TAU);
    ewma.observe(20, TAU, TAU);
    expect(ewma.read(TAU, TAU)).toBe(decayed);
  });

  it('peek decays without re-anchoring', () => {
    const ewma = new PeakEwma(30, 0);
    ewma.observe(100, 0, TAU);
    expect(ewma.peek(TAU, TAU)).toBeCloseTo(100 * Math.exp(-1), 12);
    ewma.observe(20, TAU, TAU);
    const d = Math.exp(-1);
    expect(ewma.peek(TAU, TAU)).toBeCloseTo(100 * d + 20 * (1 - d), 12);
  });
});
