/* Test stub (see mxc_device.h): the MSDK umbrella header an izer-generated project includes, with
 * the timer, delay and GPIO declarations its cnn.c and main.c use. */
#ifndef STUB_MXC_H
#define STUB_MXC_H
#include <stdint.h>
#include "mxc_device.h"
#include "mxc_sys.h"
#include "gcfr_regs.h"
#include "icc.h"
#include "lp.h"
#include "nvic_table.h"
#include "uart.h"
typedef struct { volatile uint32_t cnt, cmp, pwm, intfl, ctrl0; } mxc_tmr_regs_t;
#define MXC_TMR0 ((mxc_tmr_regs_t *)0x40010000u)
void MXC_TMR_SW_Start(mxc_tmr_regs_t *tmr);
unsigned int MXC_TMR_SW_Stop(mxc_tmr_regs_t *tmr);
#define MSEC(x) ((x) * 1000ul)
#define SEC(x) ((x) * 1000000ul)
void MXC_Delay(unsigned long us);
typedef struct { volatile uint32_t en0, out, out_set, out_clr; } mxc_gpio_regs_t;
typedef enum { MXC_GPIO_PAD_NONE = 0 } mxc_gpio_pad_t;
typedef enum { MXC_GPIO_FUNC_OUT = 2 } mxc_gpio_func_t;
typedef struct { mxc_gpio_regs_t *port; uint32_t mask; mxc_gpio_pad_t pad; mxc_gpio_func_t func; } mxc_gpio_cfg_t;
int MXC_GPIO_Config(const mxc_gpio_cfg_t *cfg);
void MXC_GPIO_OutSet(mxc_gpio_regs_t *port, uint32_t mask);
void MXC_GPIO_OutClr(mxc_gpio_regs_t *port, uint32_t mask);
void LED_On(unsigned int idx);
void LED_Off(unsigned int idx);
#endif
