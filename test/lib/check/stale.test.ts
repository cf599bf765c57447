// Control for the stale-mapping scan: it must flag hand-built bad states, so a scan that finds nothing fails here.

import assert from 'node:assert/strict';
import { staleMappingScan } from '../../../lib/check/stale.js';
import { map_mmio_regions, unmap_mmio_regions, p2m_lookup } from '../../../lib/xen/p2m.js';
import { pci_conf_write16, pci_conf_read16, PCI_COMMAND, PCI_COMMAND_MEMORY } from '../../../lib/hw/index.js';
import { boot, SBDF_A, SBDF_B } from '../../helpers-model.js';

const BAR0_A = 0xe0100000 / 4096;        // device A's BAR0, mapped 1:1 in Dom0's p2m at boot (decoding on)
const FREE_FRAME = 0xe0f00;              // inside the p2m window, no device's BAR

describe('stale-mapping scan (control)', () => {
  it('finds nothing on a freshly booted machine (whose BARs are enabled and mapped)', () => {
    const { world } = boot({ bootDevices: [SBDF_A, SBDF_B] });
    assert.equal(p2m_lookup(world.domains[0], BAR0_A), BAR0_A, 'boot mapped device A\'s BAR0 in Dom0\'s p2m');
    assert.deepEqual(staleMappingScan(world), []);
  });

  it('flags a DomU p2m entry with no enabled BAR behind it', () => {
    const { world } = boot({ bootDevices: [SBDF_A, SBDF_B] });
    assert.equal(map_mmio_regions(world.domains[1], FREE_FRAME, 1, FREE_FRAME), 0);
    const f = staleMappingScan(world);
    assert.equal(f.length, 1, JSON.stringify(f));
    assert.equal(f[0].domain, 1);
    assert.equal(f[0].gfn, FREE_FRAME);
    assert.match(f[0].what, /d1 maps frame 0xe0f00 it has no enabled BAR for/);
  });

  it('flags a DomU mapping of a BAR that is enabled, but for another domain (Dom0 owns the device)', () => {
    const { world } = boot({ bootDevices: [SBDF_A, SBDF_B] });
    assert.equal(map_mmio_regions(world.domains[1], BAR0_A, 1, BAR0_A), 0);
    assert.match(staleMappingScan(world).map((x) => x.what).join('; '), /d1 maps frame 0xe0100/);
  });

  it('flags an enabled BAR that is not mapped in its owner\'s p2m', () => {
    const { world } = boot({ bootDevices: [SBDF_A, SBDF_B] });
    assert.equal(unmap_mmio_regions(world.domains[0], BAR0_A + 3, 1, BAR0_A + 3), 0);
    const f = staleMappingScan(world);
    assert.equal(f.length, 1, JSON.stringify(f));
    assert.equal(f[0].sbdf, SBDF_A);
    assert.match(f[0].what, /BAR0 enabled but not mapped in d0/);
  });

  it('flags hardware decoding that disagrees with the BARs\' state', () => {
    const { world } = boot({ bootDevices: [SBDF_A, SBDF_B] });
    pci_conf_write16(SBDF_A, PCI_COMMAND, pci_conf_read16(SBDF_A, PCI_COMMAND) & ~PCI_COMMAND_MEMORY);
    const f = staleMappingScan(world);
    assert.equal(f.length, 1, JSON.stringify(f));
    assert.equal(f[0].sbdf, SBDF_A);
    assert.match(f[0].what, /COMMAND\.MEMORY=0 but 2\/2 BARs enabled/);
  });
});
