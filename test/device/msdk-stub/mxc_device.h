/* Test stub: the few MSDK/CMSIS declarations hal_msdk.c uses, so the file can be compile-checked
 * with arm-none-eabi-gcc without the MSDK. Names and signatures follow the MSDK for MAX78002;
 * this is not the MSDK and is never linked. */
#ifndef STUB_MXC_DEVICE_H
#define STUB_MXC_DEVICE_H
#include <stdint.h>
#define E_NO_ERROR 0
typedef enum { UART0_IRQn = 14, UART1_IRQn = 15, CNN_IRQn = 84 } IRQn_Type;
typedef struct { volatile uint32_t CTRL, CYCCNT; } DWT_Type;
typedef struct { volatile uint32_t DHCSR, DCRSR, DCRDR, DEMCR; } CoreDebug_Type;
#define DWT ((DWT_Type *)0xE0001000u)
#define CoreDebug ((CoreDebug_Type *)0xE000EDF0u)
#define DWT_CTRL_CYCCNTENA_Msk (1u << 0)
#define CoreDebug_DEMCR_TRCENA_Msk (1u << 24)
extern uint32_t SystemCoreClock;
void SystemCoreClockUpdate(void);
void NVIC_EnableIRQ(IRQn_Type irq);
#define MXC_S_GCR_PCLKDIV_CNNCLKSEL_IPLL (1u << 14)
#define MXC_S_GCR_PCLKDIV_CNNCLKDIV_DIV4 (2u << 10)
#define MXC_S_GCR_PCLKDIV_CNNCLKDIV_DIV1 (0u << 10)
#define MXC_F_GCR_PCLKDIV_CNNCLKDIV (7u << 10)
#define MXC_F_GCR_PCLKDIV_CNNCLKSEL (3u << 14)
#define MXC_F_GCR_IPLL_CTRL_EN (1u << 0)
#define MXC_F_GCR_IPLL_CTRL_RDY (1u << 8)
typedef struct { volatile uint32_t pclkdiv, ipll_ctrl; } mxc_gcr_regs_t;
#define MXC_GCR ((mxc_gcr_regs_t *)0x40000000u)
#endif
