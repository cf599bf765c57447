// The scenario API as Xen's rules have it: a vCPU returns to the guest (its deferred work done) before every action,
// and an actor's own mistakes are the scenario's, reported as one line with exit 2.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPool } from '../../../lib/run/index.js';
import { CRASH_OUTCOMES } from '../../../lib/mem/crash.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { reproduce } from '../../../lib/explore/repro.js';

const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));

const scenarioFile = (dir: string, name: string, actors: string, machine = '{ vcpus: [2], devices: 1 }'): string => {
  const f = path.join(dir, `${name}.mjs`);
  fs.writeFileSync(f, `export default {
  name: '${name}', description: 'test', machine: ${machine},
  actors: {
${actors}
  },
  expect: { '*': { expected: ['ok'] } },
};
`);
  return f;
};

describe('scenario API', function () {
  this.timeout(120_000);
  let dir = '';
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-api-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('assign, deassign, remove on one vCPU without resume(): the vCPU returns to the guest before each, no crash on it', async () => {
    // Without the automatic return, deassign's re-added Dom0 vPCI defers a map into d0v0's slot, remove frees the
    // pdev, and d0v0's own pending step reads it: a use-after-free Xen cannot have (defer_map raises
    // SCHEDULE_SOFTIRQ, so the vCPU finishes that work before its next hypercall).
    const f = scenarioFile(dir, 'no-resume', '    d0v0(x) { x.assign(1, x.dev(0)); x.deassign(1, x.dev(0)); x.remove(x.dev(0)); },', '{ vcpus: [1, 1], devices: 1 }');
    const { url, scenario } = await loadScenario(f);
    const pool = createPool(1);
    try {
      for (const strategy of ['upstream', 'baseline']) {
        const r = await reproduce(pool, url, scenario, strategy, { runs: 20, chooser: 'pct', pctDepth: 3, seed: 1, all: true });
        for (const o of CRASH_OUTCOMES) assert.equal(r.outcomes[o], 0, `${strategy}: ${JSON.stringify(r.tally)}`);
      }
    } finally {
      await pool.close();
    }
  });

  it('an actor that changes its params sees them fresh in every run (a worker keeps its task from run to run)', async () => {
    const f = path.join(dir, 'params.mjs');
    fs.writeFileSync(f, `export default {
  name: 'params', description: 'test', machine: { vcpus: [2], devices: 1 }, params: { n: 0, seen: [] },
  actors: {
    d0v0(x, p) { if (p.n !== 0 || p.seen.length !== 0) throw new Error('params changed: ' + p.n); p.n++; p.seen.push(1); x.resume(); },
    d0v1(x, p) { if (p.n !== 0) throw new Error('params changed: ' + p.n); p.n = 5; x.resume(); },
  },
  expect: { '*': { expected: ['ok'] } },
};
`);
    const { url, scenario } = await loadScenario(f);
    const pool = createPool(2);
    try {
      const r = await reproduce(pool, url, scenario, 'upstream', { runs: 12, chooser: 'pct', pctDepth: 3, seed: 1, all: true });
      assert.equal(r.outcomes.ok, 12);
      assert.ok(pool.repeated > 0, 'the workers ran kept tasks');
    } finally {
      await pool.close();
    }
  });

  const bad: Array<[string, string, RegExp]> = [
    ['throws', 'const y = undefined; y.frob();', /actor d0v1 threw TypeError: Cannot read properties of undefined \(reading 'frob'\) \(at throws\.mjs:5\)$/],
    ['no-device', 'x.read(x.dev(7), 0, 4);', /actor d0v1: x\.dev\(7\): the machine has 1 device \(dev\(0\)\.\.dev\(0\)\) \(at no-device\.mjs:5\)$/],
    ['size', 'x.read(x.dev(0), 0, 3);', /x\.read: access size 3 \(1, 2 or 4 bytes\)/],
    ['offset', 'x.write(x.dev(0), 4096, 1, 0);', /x\.write: offset 4096 is outside config space/],
    ['domain', 'x.assign(2, x.dev(0));', /x\.assign: domain 2: the machine has d0\.\.d0/],
  ];
  for (const [name, body, pattern] of bad) {
    it(`an actor's mistake is one line naming actor, error and line, exit 2: ${name}`, () => {
      const f = scenarioFile(dir, name, `    d0v0(x) { x.resume(); },\n    d0v1(x) { ${body} },`);
      const r = spawnSync(process.execPath, [CLI, 'repro', f, '--strategy', 'baseline', '--runs', '2'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], new RegExp(`^vpci-lab: scenario ${name}, `));
      assert.match(lines[0], pattern);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    });
  }
});
