/* Test stub (see mxc_device.h): the CNN power/isolation registers an izer cnn.c writes. */
#ifndef STUB_GCFR_REGS_H
#define STUB_GCFR_REGS_H
#include <stdint.h>
typedef struct { volatile uint32_t reg0, reg1, reg2, reg3; } mxc_gcfr_regs_t;
#define MXC_GCFR ((mxc_gcfr_regs_t *)0x40005800u)
#endif
