// Placement of a controlled run's threads (lib/sched/place.ts): one core each when they fit the cores, anywhere
// otherwise. Checked against the kernel's own view of each worker thread (Cpus_allowed_list), not the module's.
// VPCI_PIN=1: no letting go of a contended core, which a busy machine would make happen at any time.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createPool, runTrial, type TrialPool } from '../../../lib/run/index.js';
import { createMachine } from '../../../lib/mem/machine.js';
import { futexAddon } from '../../../lib/sched/futex.js';
import { processCpus } from '../../../lib/sched/place.js';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PLACE = new URL('../../fixtures/actors-place.js', import.meta.url).href;
const actors = (n: number) => Array.from({ length: n }, () => ({ module: PLACE, export: 'where', arg: 200 }));

describe('placement of controlled threads (real workers)', function () {
  this.timeout(120_000);
  let pool: TrialPool | undefined;
  let all = '';
  before(function () {
    if (availableParallelism() < 2 || !futexAddon() || process.env.VPCI_PIN === '0' || process.env.VPCI_CORES) this.skip();
    all = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/thread-self/status', 'utf8'))?.[1] ?? '?'; // the main thread's
    const saved = process.env.VPCI_PIN;
    process.env.VPCI_PIN = '1';                            // pinned whatever the load (workers copy the environment)
    pool = createPool(availableParallelism() + 1);
    if (saved === undefined) delete process.env.VPCI_PIN; else process.env.VPCI_PIN = saved;
  });
  after(async () => { await pool?.close(); });
  const run = async (n: number, mode: 'controlled' | 'free', spin: 'auto' | 0 = 'auto'): Promise<string[]> => {
    const r = await runTrial(pool!, createMachine({ threads: n, schedDecisions: n * 250 }), actors(n), { mode, seed: 3, budgetMs: 30_000, spin });
    assert.equal(r.outcome, 'ok', `${r.outcome} ${r.hang?.detail ?? ''}`);
    return r.threads.map((t) => String(t.value));
  };

  it('a run that fits the cores: thread c on a core of its own; then anywhere again when the run does not qualify', async () => {
    const n = Math.min(2, availableParallelism());
    const pinned = await run(n, 'controlled');
    assert.equal(new Set(pinned).size, n, `threads share a core: ${pinned.join(' ')}`);
    for (const p of pinned) assert.match(p, /^\d+$/, `not pinned to one CPU: ${p}`);
    assert.deepEqual(await run(n, 'controlled', 0), Array(n).fill(all), 'no polling: no pinning');
    await run(n, 'controlled');
    assert.deepEqual(await run(n, 'free'), Array(n).fill(all), 'a free-running trial left a thread pinned');
    assert.deepEqual(await run(availableParallelism() + 1, 'controlled'), Array(availableParallelism() + 1).fill(all), 'more threads than cores: pinned');
  });
});


describe('confinement of a process (VPCI_CPUS, as verify --jobs gives its children)', function () {
  this.timeout(60_000);
  const child = fileURLToPath(new URL('../../fixtures/confine-child.js', import.meta.url));
  const run = (env: NodeJS.ProcessEnv) => JSON.parse(execFileSync(process.execPath, [child], { env: { ...process.env, ...env }, encoding: 'utf8' })) as { said: string; worker: string; threads: string[] };

  it('every thread, those running and a worker started later, runs on the CPUs given; none given, none confined', function () {
    const cpus = processCpus();
    if (cpus.length < 2 || process.env.VPCI_PIN === '0') this.skip();
    const last = String(cpus[cpus.length - 1]);
    const r = run({ VPCI_CPUS: last, VPCI_PIN: '' });
    assert.equal(r.said, `confined to CPUs ${last}`);
    assert.equal(r.worker, last);
    assert.deepEqual([...new Set(r.threads)], [last], `threads left out: ${r.threads.join(' ')}`);
    const free = run({ VPCI_CPUS: '', VPCI_PIN: '' });
    assert.equal(free.said, 'not confined');
    assert.ok(free.threads.every((t) => t !== last), `confined without VPCI_CPUS: ${free.threads.join(' ')}`);
  });
});
