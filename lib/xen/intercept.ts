// A guest's access to MMIO in its physical address space (xen/arch/x86/hvm/emulate.c, intercept.c). A frame the
// domain's p2m maps is reached without leaving the guest: straight to the device. Any other frame exits to Xen,
// where hvm_find_io_handler asks each intercept whether it claims the address — the one the lab models is the
// MSI-X table's (init_msix registers it: msix_accept, msix_read, msix_write). X86EMUL_RETRY re-executes the
// instruction, so the claim is asked again; an address nobody claims goes to the null handler: reads all-ones,
// writes dropped. Accesses are 4 or 8 bytes; an 8-byte value is [low, high].

import { M, cpu } from '../mem/machine.js';
import { chk } from '../mem/heap.js';
import { backoff_point, yield_point } from '../sched/mode.js';
import { record, EV, tstat, TSTAT } from '../trace/recorder.js';
import { SITE } from '../trace/sites.js';
import { mmio_read32, mmio_write32 } from '../hw/index.js';
import { DOMAIN, VCPU, X86EMUL_RETRY, type MmioData } from './types.js';
import { current } from './state.js';
import { p2m_lookup } from './p2m.js';
import { fn } from './fn.js';
import type { VcpuPtr } from './types.js';

/** The machine address a guest address reaches without an exit, or -1 when the frame is not mapped. */
function direct(d: number, addr: number): number {
  const mfn = p2m_lookup(d, Math.floor(addr / 4096));
  return mfn < 0 ? -1 : mfn * 4096 + (addr % 4096);
}

/** hvm_find_io_handler over the one intercept modelled: is the MSI-X table handler registered, and does it claim addr. */
function claimed(v: VcpuPtr, d: number, addr: number): boolean {
  return M[chk(d, DOMAIN, 'hvm_find_io_handler') + DOMAIN.msix_mmio_handler] !== 0 && fn.msix_accept(v, addr);
}

const scratch: MmioData = { lo: 0, hi: 0 };

export function guest_mmio_read(addr: number, len: 4 | 8): number | [number, number] {
  M[tstat(cpu, TSTAT.ACCESSES)]++;
  record(EV.ENTER, SITE.guest_mmio, addr % 2 ** 31);
  const v = current(), d = M[chk(v, VCPU, 'guest_mmio_read') + VCPU.domain];
  chk(d, DOMAIN, 'guest_mmio_read');
  yield_point(SITE.guest_mmio);
  for (;;) {
    const pa = direct(d, addr);
    if (pa >= 0) return len === 8 ? [mmio_read32(pa), mmio_read32(pa + 4)] : mmio_read32(pa);
    if (!claimed(v, d, addr)) return len === 8 ? [0xffffffff, 0xffffffff] : 0xffffffff;
    if (fn.msix_read(v, addr, len, scratch) !== X86EMUL_RETRY) return len === 8 ? [scratch.lo >>> 0, scratch.hi >>> 0] : scratch.lo >>> 0;
    backoff_point(SITE['msix:retry']);
  }
}

export function guest_mmio_write(addr: number, len: 4 | 8, data: number | [number, number]): void {
  M[tstat(cpu, TSTAT.ACCESSES)]++;
  record(EV.ENTER, SITE.guest_mmio, addr % 2 ** 31);
  const v = current(), d = M[chk(v, VCPU, 'guest_mmio_write') + VCPU.domain];
  chk(d, DOMAIN, 'guest_mmio_write');
  const [lo, hi] = Array.isArray(data) ? data : [data, 0];
  yield_point(SITE.guest_mmio);
  for (;;) {
    const pa = direct(d, addr);
    if (pa >= 0) { mmio_write32(pa, lo); if (len === 8) mmio_write32(pa + 4, hi); return; }
    if (!claimed(v, d, addr)) return;
    scratch.lo = lo >>> 0; scratch.hi = len === 8 ? hi >>> 0 : 0;
    if (fn.msix_write(v, addr, len, scratch) !== X86EMUL_RETRY) return;
    backoff_point(SITE['msix:retry']);
  }
}
