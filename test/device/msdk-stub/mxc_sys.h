/* Test stub (see mxc_device.h). */
#ifndef STUB_MXC_SYS_H
#define STUB_MXC_SYS_H
typedef enum { MXC_SYS_CLOCK_IPO = 0 } mxc_sys_system_clock_t;
typedef enum { MXC_SYS_PERIPH_CLOCK_CNN = 57 } mxc_sys_periph_clock_t;
int MXC_SYS_Clock_Select(mxc_sys_system_clock_t clock);
void MXC_SYS_ClockEnable(mxc_sys_periph_clock_t clock);
void MXC_SYS_ClockDisable(mxc_sys_periph_clock_t clock);
#endif
