// Issue 21, item 2: Xen's defaults. --xen-build debug|release (ASSERT panics, or is not evaluated and the code runs
// on) and --iommu quarantine|no-quarantine (deassigned devices park in dom_io, Xen's default) on every command, and
// PHYSDEVOP_pci_mmcfg_reserved's vPCI re-init at HEAD. Each pair below differs only in the machine option.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { takeMachineOptions } from '../../../cli/machine-options.js';
import { machineDefaults } from '../../../lib/lab/boot.js';
import { UsageError } from '../../../cli/args.js';

const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));

/** The verdict line of one verify cell. */
function verdict(scenario: string, strategy: string, ...opts: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-machine-'));
  const r = spawnSync(process.execPath, [CLI, 'verify', scenario, '--strategy', strategy, '--report', path.join(dir, 'r.html'), '--html', path.join(dir, 't.html'), ...opts],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, VPCI_XEN_BUILD: '', VPCI_IOMMU: '' } });
  fs.rmSync(dir, { recursive: true, force: true });
  const line = r.stdout.split("\n").find((l) => l.startsWith(`${scenario} / ${strategy}:`) || l.startsWith(`${scenario} under ${strategy}:`));
  assert.ok(line, `no verdict line: ${r.stdout}${r.stderr}`);
  return line;
}

describe('machine options (issue 21)', function () {
  this.timeout(300_000);

  it('are taken from anywhere after the command and travel as environment variables; bad values are a usage error', () => {
    const env: NodeJS.ProcessEnv = {};
    assert.deepEqual(takeMachineOptions(['x', '--xen-build', 'release', '--runs', '3', '--iommu=no-quarantine'], env), ['x', '--runs', '3']);
    assert.deepEqual(machineDefaults(env), { xenBuild: 'release', iommuQuarantine: false });
    assert.deepEqual(machineDefaults({}), { xenBuild: 'debug', iommuQuarantine: true });
    assert.throws(() => takeMachineOptions(['--xen-build', 'fast'], {}), UsageError);
    assert.throws(() => takeMachineOptions(['--iommu'], {}), UsageError);
  });

  it('double-enable at HEAD: the debug build asserts at header.c:357, the release build runs on and ends consistent', () => {
    assert.match(verdict('double-enable', 'upstream'), /refuted: assert at modify_bars with 1 preemption/);
    assert.match(verdict('double-enable', 'upstream', '--xen-build', 'release'), /: verified/);
  });

  it('mmcfg-reinit at HEAD: the hidden device trips cap.c:402 in debug; in release the reset frees the vpci the re-init uses', () => {
    assert.match(verdict('mmcfg-reinit', 'upstream'), /refuted: assert at vpci_reinit_ext_capabilities with 0 preemptions/);
    assert.match(verdict('mmcfg-reinit', 'upstream', '--xen-build', 'release'), /refuted: use-after-free at vpci_remove_registers with 1 preemption/);
    assert.match(verdict('mmcfg-reinit', 'baseline'), /: verified/);   // late 2021: no re-init, no reset
  });

  it('cancel-race under cancel-all: the stale mapping needs iommu=no-quarantine (the device must come back to Dom0)', () => {
    assert.match(verdict('cancel-race', 'cancel-all'), /: verified/);
    assert.match(verdict('cancel-race', 'cancel-all', '--iommu', 'no-quarantine'), /refuted: stale-mapping/);
  });
});
