/*
 * Where C keeps what the stale-mapping scan reads (lib/cxen/scan.ts), as the compiler laid it out from the tree's
 * own headers: offsetof for fields, a probe for bitfields (vpci_bar.enabled, vpci_msix.max_entries), the enum values
 * of vpci.h. The scan reads the machine's memory with these after a trial, on a thread where no C need run; it
 * asks this entry once per build. Nothing here touches the machine.
 *
 * The order of CX_SCAN_LAYOUT is lib/cxen/scan.ts LAYOUT's; the first value is their number, so a mismatch shows.
 */
#include "cx.h"

extern const int32_t cx_globals_domains_at, cx_globals_nr_domains_at;   /* glue.c: struct cx_globals is its own */

/* Byte offset (low 8 bits' position shifted by 8) and 32-bit mask of a bitfield set to all ones in a zeroed object. */
#define PROBE(type, field, ones) ({                                                        \
    type o_;                                                                               \
    const uint8_t *b_ = (const uint8_t *)&o_;                                              \
    uint32_t m_ = 0;                                                                       \
    int at_ = -1;                                                                          \
    memset(&o_, 0, sizeof(o_));                                                            \
    o_.field = (ones);                                                                     \
    for ( int i_ = 0; i_ < (int)sizeof(o_); i_++ )                                         \
        if ( b_[i_] && at_ < 0 )                                                           \
            at_ = i_;                                                                      \
    for ( int i_ = 0; at_ >= 0 && i_ < 4 && at_ + i_ < (int)sizeof(o_); i_++ )             \
        m_ |= (uint32_t)b_[at_ + i_] << (8 * i_);                                          \
    (int64_t)at_ * 0x100000000LL + m_; })

#ifdef CX_XEN_HEAD
#define GUEST_ADDR offsetof(struct vpci_bar, guest_addr)
#define PENDING offsetof(struct vcpu, vpci.pdev)      /* HEAD's vpci_process_pending: work while v->vpci.pdev */
#else
#define GUEST_ADDR -1                                 /* 4.17: no guest address, the guest sees the host's */
#define PENDING offsetof(struct vcpu, vpci.mem)       /* 4.17's vpci_process_pending: work while v->vpci.mem */
#endif

CX_ENTRY(cx_scan_layout)
{
    const int64_t layout[] = {
        0,
        cx_globals_domains_at, cx_globals_nr_domains_at,
        offsetof(struct domain, pdev_list), offsetof(struct domain, lab_domain), offsetof(struct domain, max_vcpus),
        offsetof(struct domain, vcpu),
        offsetof(struct pci_dev, domain_list), offsetof(struct pci_dev, vpci), offsetof(struct pci_dev, sbdf),
        offsetof(struct vpci, header.bars), sizeof(struct vpci_bar), PCI_HEADER_NORMAL_NR_BARS + 1,
        offsetof(struct vpci_bar, addr), GUEST_ADDR, offsetof(struct vpci_bar, size), offsetof(struct vpci_bar, type),
        PROBE(struct vpci_bar, enabled, 1),
        VPCI_BAR_MEM32, VPCI_BAR_MEM64_LO, VPCI_BAR_ROM,
        offsetof(struct vpci, msix), offsetof(struct vpci_msix, tables), PROBE(struct vpci_msix, max_entries, 0xfff),
        offsetof(struct vcpu, vpci.pdev), PENDING,
    };
    if ( a0 == 0 )
        return ARRAY_SIZE(layout);
    return a0 > 0 && a0 < (int64_t)ARRAY_SIZE(layout) ? layout[a0] : -1;
}
