// Type-0 configuration header offsets and bits under the names of xen/include/xen/pci_regs.h (L21 and HEAD agree),
// so model code reads like Xen's C. Masks Xen writes as `~0x0fUL` are given as unsigned 32-bit numbers: JS bitwise
// results are signed, so compare with `>>> 0` applied.

export const PCI_CFG_SPACE_SIZE = 256;
export const PCI_CFG_SPACE_EXP_SIZE = 4096;

export const PCI_VENDOR_ID = 0x00;          /* 16 bits; 0xffff = no device */
export const PCI_DEVICE_ID = 0x02;          /* 16 bits */
export const PCI_COMMAND = 0x04;            /* 16 bits */
export const PCI_COMMAND_IO = 0x0001;
export const PCI_COMMAND_MEMORY = 0x0002;
export const PCI_COMMAND_MASTER = 0x0004;
export const PCI_COMMAND_SPECIAL = 0x0008;
export const PCI_COMMAND_INVALIDATE = 0x0010;
export const PCI_COMMAND_VGA_PALETTE = 0x0020;
export const PCI_COMMAND_PARITY = 0x0040;
export const PCI_COMMAND_WAIT = 0x0080;
export const PCI_COMMAND_SERR = 0x0100;
export const PCI_COMMAND_FAST_BACK = 0x0200;
export const PCI_COMMAND_INTX_DISABLE = 0x0400;
export const PCI_COMMAND_RSVDP_MASK = 0xf800;

export const PCI_STATUS = 0x06;             /* 16 bits */
export const PCI_STATUS_IMM_READY = 0x01;
export const PCI_STATUS_INTERRUPT = 0x08;
export const PCI_STATUS_CAP_LIST = 0x10;
export const PCI_STATUS_66MHZ = 0x20;
export const PCI_STATUS_UDF = 0x40;
export const PCI_STATUS_FAST_BACK = 0x80;
export const PCI_STATUS_PARITY = 0x100;
export const PCI_STATUS_DEVSEL_MASK = 0x600;
export const PCI_STATUS_SIG_TARGET_ABORT = 0x800;
export const PCI_STATUS_REC_TARGET_ABORT = 0x1000;
export const PCI_STATUS_REC_MASTER_ABORT = 0x2000;
export const PCI_STATUS_SIG_SYSTEM_ERROR = 0x4000;
export const PCI_STATUS_DETECTED_PARITY = 0x8000;

export const PCI_CLASS_REVISION = 0x08;     /* high 24 bits class, low 8 revision */
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CLASS_DEVICE = 0x0a;
export const PCI_CACHE_LINE_SIZE = 0x0c;    /* 8 bits */
export const PCI_LATENCY_TIMER = 0x0d;      /* 8 bits */
export const PCI_HEADER_TYPE = 0x0e;        /* 8 bits; bit 7 = multi-function, Xen masks with 0x7f */
export const PCI_HEADER_TYPE_MASK = 0x7f;
export const PCI_HEADER_TYPE_MULTIFUNC = 0x80;
export const PCI_HEADER_TYPE_NORMAL = 0;
export const PCI_HEADER_TYPE_BRIDGE = 1;
export const PCI_HEADER_TYPE_CARDBUS = 2;
export const PCI_BIST = 0x0f;

export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_BASE_ADDRESS_1 = 0x14;
export const PCI_BASE_ADDRESS_2 = 0x18;
export const PCI_BASE_ADDRESS_3 = 0x1c;
export const PCI_BASE_ADDRESS_4 = 0x20;
export const PCI_BASE_ADDRESS_5 = 0x24;
export const PCI_BASE_ADDRESS_SPACE = 0x01;          /* 0 = memory, 1 = I/O */
export const PCI_BASE_ADDRESS_SPACE_IO = 0x01;
export const PCI_BASE_ADDRESS_SPACE_MEMORY = 0x00;
export const PCI_BASE_ADDRESS_MEM_TYPE_MASK = 0x06;
export const PCI_BASE_ADDRESS_MEM_TYPE_32 = 0x00;
export const PCI_BASE_ADDRESS_MEM_TYPE_1M = 0x02;    /* below 1M, legacy; never produced by this model */
export const PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x04;
export const PCI_BASE_ADDRESS_MEM_PREFETCH = 0x08;
export const PCI_BASE_ADDRESS_MEM_MASK = 0xfffffff0; /* ~0x0fUL */
export const PCI_BASE_ADDRESS_IO_MASK = 0xfffffffc;  /* ~0x03UL */
export const PCI_HEADER_NORMAL_NR_BARS = 6;
export const PCI_HEADER_BRIDGE_NR_BARS = 2;

export const PCI_CARDBUS_CIS = 0x28;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_ROM_ADDRESS_ENABLE = 0x01;
export const PCI_ROM_ADDRESS_MASK = 0xfffff800;      /* ~0x7ffUL */
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_ROM_ADDRESS1 = 0x38;                /* bridges only; unused by the type-0 model */
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;
export const PCI_MIN_GNT = 0x3e;
export const PCI_MAX_LAT = 0x3f;

// Capability list (pci_regs.h L21 205-226) and the MSI-X capability (L21 310-325), as Xen names them.
export const PCI_CAP_LIST_ID = 0;                    /* Capability ID */
export const PCI_CAP_LIST_NEXT = 1;                  /* Next capability in the list */
export const PCI_CAP_ID_MSI = 0x05;
export const PCI_CAP_ID_MSIX = 0x11;
// The MSI capability (pci_regs.h L21 283-300; msi.h's msi_*_reg helpers).
export const PCI_MSI_FLAGS = 2;                      /* Message Control, 16 bits */
export const PCI_MSI_FLAGS_ENABLE = 0x0001;
export const PCI_MSI_FLAGS_QMASK = 0x000e;           /* Multiple Message Capable */
export const PCI_MSI_FLAGS_QSIZE = 0x0070;           /* Multiple Message Enable */
export const PCI_MSI_FLAGS_64BIT = 0x0080;
export const PCI_MSI_FLAGS_MASKBIT = 0x0100;
export const PCI_MSI_ADDRESS_LO = 4;                 /* msi_lower_address_reg */
export const PCI_MSI_DATA_32 = 8;                    /* msi_data_reg for a 32-bit address */
export const PCI_MSIX_FLAGS = 2;                     /* Message Control, 16 bits */
export const PCI_MSIX_FLAGS_QSIZE = 0x7ff;           /* table size - 1 */
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const PCI_MSIX_TABLE = 4;                     /* Table offset | BIR */
export const PCI_MSIX_PBA = 8;                       /* PBA offset | BIR */
export const PCI_MSIX_BIRMASK = 7;
export const PCI_MSIX_ENTRY_SIZE = 16;
export const PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET = 0;
export const PCI_MSIX_ENTRY_UPPER_ADDR_OFFSET = 4;
export const PCI_MSIX_ENTRY_DATA_OFFSET = 8;
export const PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET = 12;
export const PCI_MSIX_VECTOR_BITMASK = 1;
