/* Test stub (see mxc_device.h). */
#ifndef STUB_LP_H
#define STUB_LP_H
void MXC_LP_EnterSleepMode(void);
#endif
