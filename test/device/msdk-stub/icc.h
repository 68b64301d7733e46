/* Test stub (see mxc_device.h). */
#ifndef STUB_ICC_H
#define STUB_ICC_H
typedef struct { volatile unsigned int ctrl; } mxc_icc_regs_t;
#define MXC_ICC0 ((mxc_icc_regs_t *)0x4002A000u)
void MXC_ICC_Enable(mxc_icc_regs_t *icc);
#endif
