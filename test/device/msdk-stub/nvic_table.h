/* Test stub (see mxc_device.h). */
#ifndef STUB_NVIC_TABLE_H
#define STUB_NVIC_TABLE_H
#include "mxc_device.h"
void MXC_NVIC_SetVector(IRQn_Type irqn, void (*irq_callback)(void));
#endif
