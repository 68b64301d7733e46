/* Test stub (see mxc_device.h). */
#ifndef STUB_UART_H
#define STUB_UART_H
#include <stdint.h>
#include "mxc_device.h"
typedef struct { volatile uint32_t ctrl, status, int_en, int_fl; } mxc_uart_regs_t;
typedef enum { MXC_UART_APB_CLK = 0, MXC_UART_IBRO_CLK = 2 } mxc_uart_clock_t;
#define MXC_UART_GET_UART(i) ((mxc_uart_regs_t *)(0x40042000u + 0x1000u * (i)))
#define MXC_UART_GET_IRQ(i) ((IRQn_Type)(UART0_IRQn + (i)))
#define MXC_F_UART_INT_EN_RX_THD (1u << 4)
int MXC_UART_Init(mxc_uart_regs_t *uart, unsigned int baud, mxc_uart_clock_t clock);
int MXC_UART_SetRXThreshold(mxc_uart_regs_t *uart, unsigned int numBytes);
int MXC_UART_EnableInt(mxc_uart_regs_t *uart, unsigned int intEn);
unsigned int MXC_UART_GetRXFIFOAvailable(mxc_uart_regs_t *uart);
int MXC_UART_ReadCharacterRaw(mxc_uart_regs_t *uart);
int MXC_UART_WriteCharacterRaw(mxc_uart_regs_t *uart, uint8_t character);
unsigned int MXC_UART_GetFlags(mxc_uart_regs_t *uart);
int MXC_UART_ClearFlags(mxc_uart_regs_t *uart, unsigned int flags);
#endif
