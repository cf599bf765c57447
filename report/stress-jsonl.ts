// stress --jsonl: a header line with the campaign's settings, then one line per trial as it ends. A run killed
// before it wrote its JSON can still be merged from these lines (merge rebuilds the counts from them).

import os from 'node:os';
import type { StressJson } from './stress-json.js';

export interface StressJsonlHeader {
  command: 'stress'; version: 1; started: string; cores: number; seed: number;
  shape: StressJson['shape']; inject: StressJson['inject']; jitter?: StressJson['jitter'];
  cyclesPerTrial: number; strategies: string[];
  shard?: { index: number; count: number };
}

export function jsonlHeader(o: Omit<StressJsonlHeader, 'command' | 'version' | 'started' | 'cores'>): string {
  const header: StressJsonlHeader = { command: 'stress', version: 1, started: new Date().toISOString(), cores: os.availableParallelism(), ...o };
  return JSON.stringify({ header }) + '\n';
}
