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

  it('pdev->quarantine: a device the toolstack put in dom_io goes back there on deassign even with iommu=no-quarantine', () => {
    // Where the deassign sent the device shows in the rc of the deassign from dom_io: 0 if dom_io owns it, -ENODEV if not.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-quarantine-'));
    const scenario = (quarantine: boolean): string => {
      const f = path.join(dir, `q${quarantine ? 1 : 0}.mjs`);
      fs.writeFileSync(f, `export default { name: 'q', description: 'where a deassigned device goes', machine: { vcpus: [1, 1], devices: 1 },
        actors: { d0v0(x) {
          ${quarantine ? 'x.quarantine(x.dev(0)); x.resume();' : ''}
          x.write(x.dev(0), x.regs.PCI_COMMAND, 2, 0); x.resume();
          if (x.assign(1, x.dev(0)) !== 0) throw new Error('assign failed');
          x.resume(); x.deassign(1, x.dev(0)); x.resume();
          const rc = x.dequarantine(x.dev(0));
          if (rc !== 0) throw new Error('deassign from dom_io: rc ' + rc);
        } }, expect: { '*': { expected: ['ok'] } } };\n`);
      return f;
    };
    const run = (f: string, ...opts: string[]) => spawnSync(process.execPath, [CLI, 'repro', f, '--runs', '1', '--html', path.join(dir, 't.html'), ...opts],
      { encoding: 'utf8', timeout: 120_000, env: { ...process.env, VPCI_XEN_BUILD: '', VPCI_IOMMU: '' } });
    try {
      for (const strategy of ['upstream', 'baseline']) {
        const marked = run(scenario(true), '--iommu', 'no-quarantine', '--strategy', strategy);
        assert.equal(marked.status, 0, `${strategy}: ${marked.stdout}${marked.stderr}`);
        const plain = run(scenario(false), '--iommu', 'no-quarantine', '--strategy', strategy);   // control: straight back to Dom0
        assert.notEqual(plain.status, 0);
        assert.match(plain.stdout + plain.stderr, /deassign from dom_io: rc -19/);
        assert.equal(run(scenario(false), '--strategy', strategy).status, 0, 'the default (quarantine) parks it in dom_io');
      }
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });
});
