/* MAX78002 HAL over the Analog Devices MSDK and the izer-generated cnn.c / cnn.h, plus the
 * firmware's main(): UART0 at QW_BAUD with an interrupt-fed receive ring (so windows keep
 * arriving while the CNN runs), the DWT cycle counter as the µs clock, and the generated CNN API
 * (cnn_enable/init/load_weights/load_bias/configure/start/unload, cnn_time from CNN_ISR).
 *
 * Build: add qatwb_frame.c, qatwb_device.c, qatwb_scaling.c and this file to the synthesized project in place of
 * its main.c (keep cnn.c, cnn.h, weights.h), and define the model constants below (the workbench
 * writes them into qatwb_model.h when it exports).
 */
#include <stdint.h>
#include <string.h>

#include "mxc_device.h"
#include "mxc_sys.h"
#include "icc.h"
#include "lp.h"
#include "nvic_table.h"
#include "uart.h"
/* The generated cnn.h declares cnn_boost_enable(mxc_gpio_regs_t *, ...) without including the GPIO
 * header; the MSDK umbrella (as the generated main.c includes it) must come first. */
#include "mxc.h"
#include "cnn.h"

#include "qatwb_hal.h"
#include "qatwb_proto.h"

#ifdef QW_HAVE_MODEL_H
#include "qatwb_model.h"
#endif
#include "qatwb_scaling.h"

#ifndef QW_BAUD
#define QW_BAUD 921600
#endif
#ifndef QW_UART
#define QW_UART 0
#endif
/* Model constants (defaults: the MNIST nets of the conformance fixtures). */
#ifndef QW_MODEL_HASH
#define QW_MODEL_HASH 0u
#endif
#ifndef QW_INPUT_C
#define QW_INPUT_C 1
#define QW_INPUT_H 28
#define QW_INPUT_W 28
#endif
#ifndef QW_OUTPUT_WEIGHT_BITS
#define QW_OUTPUT_WEIGHT_BITS 8
#endif
/* First-layer data memory address (max78002.md §6: 0x51800000 for quadrant 0). */
#ifndef QW_INPUT_ADDR
#define QW_INPUT_ADDR 0x51800000u
#endif

#define QW_INPUT_LEN (QW_INPUT_C * QW_INPUT_H * QW_INPUT_W)

/* The generated CNN_ISR stores the inference time (µs, from CNN_INFERENCE_TIMER) here; the
 * izer's main.c would define it, and this file replaces main.c. */
volatile uint32_t cnn_time;

static const qw_model_info info = {
  "MAX78002", "qatwb-fw 1 (MSDK)", QW_MODEL_HASH, 3, {QW_INPUT_C, QW_INPUT_H, QW_INPUT_W},
  CNN_NUM_OUTPUTS, 32, QW_OUTPUT_WEIGHT_BITS, 0 /* layers cannot be dumped: see docs/protocol.md */
};

/* ---- UART: interrupt-fed receive ring ------------------------------------------------------- */

#define RING_SIZE 32768u /* two 16-KiB frames: the host keeps up to two windows in flight */
static volatile uint8_t ring[RING_SIZE];
static volatile uint32_t ring_head, ring_tail;

static mxc_uart_regs_t *uart(void) { return MXC_UART_GET_UART(QW_UART); }

static void uart_isr(void) {
  mxc_uart_regs_t *u = uart();
  while (MXC_UART_GetRXFIFOAvailable(u) > 0) {
    uint8_t b = (uint8_t)MXC_UART_ReadCharacterRaw(u);
    uint32_t next = (ring_head + 1u) % RING_SIZE;
    if (next != ring_tail) { ring[ring_head] = b; ring_head = next; } /* full: drop; the CRC notices */
  }
  MXC_UART_ClearFlags(u, MXC_UART_GetFlags(u));
}

void hal_uart_write(const uint8_t *p, size_t n) {
  mxc_uart_regs_t *u = uart();
  for (size_t i = 0; i < n; i++) {
    while (MXC_UART_WriteCharacterRaw(u, p[i]) != E_NO_ERROR) {
    }
  }
}

size_t hal_uart_read(uint8_t *p, size_t max) {
  size_t n = 0;
  while (n < max && ring_tail != ring_head) {
    p[n++] = ring[ring_tail];
    ring_tail = (ring_tail + 1u) % RING_SIZE;
  }
  return n;
}

uint32_t hal_micros(void) {
  return DWT->CYCCNT / (SystemCoreClock / 1000000u);
}

const qw_model_info *hal_model_info(void) { return &info; }

/* ---- CNN ------------------------------------------------------------------------------------ */

/* Copies a channel-first int8 window into the first layer's data memory (the layout the izer's
 * load_input() writes). CHW (big data, one channel): four consecutive samples per 32-bit word.
 * HWC (up to four channels): one word per pixel, channel c in byte c. Wider inputs span several
 * processors/quadrants: use the izer-generated load_input() instead. */
#if !defined(QW_INPUT_FORMAT_CHW) && !defined(QW_INPUT_FORMAT_HWC)
#if QW_INPUT_C == 1
#define QW_INPUT_FORMAT_CHW 1
#else
#define QW_INPUT_FORMAT_HWC 1
#endif
#endif

static void load_input(const int8_t *w) {
  volatile uint32_t *dst = (volatile uint32_t *)QW_INPUT_ADDR;
#if defined(QW_INPUT_FORMAT_CHW)
#if QW_INPUT_C != 1
#error "CHW input with more than one channel: use the izer-generated load_input()."
#endif
  for (uint32_t i = 0; i < QW_INPUT_LEN; i += 4) {
    uint32_t word = 0;
    for (uint32_t k = 0; k < 4 && i + k < QW_INPUT_LEN; k++) word |= (uint32_t)(uint8_t)w[i + k] << (8 * k);
    *dst++ = word;
  }
#else
#if QW_INPUT_C > 4
#error "More than 4 HWC input channels: use the izer-generated load_input()."
#endif
  const uint32_t pixels = QW_INPUT_H * QW_INPUT_W;
  for (uint32_t p = 0; p < pixels; p++) {
    uint32_t word = 0;
    for (uint32_t c = 0; c < QW_INPUT_C; c++) word |= (uint32_t)(uint8_t)w[c * pixels + p] << (8 * c);
    *dst++ = word;
  }
#endif
}

int hal_cnn_infer(const int8_t *window, size_t n, int32_t *out, uint32_t *time_us) {
  if (n != QW_INPUT_LEN) return -1;
  cnn_time = 0;
  if (cnn_configure() != CNN_OK) return -1;
  if (cnn_start() != CNN_OK) return -1;
  load_input(window);
  while (cnn_time == 0) MXC_LP_EnterSleepMode(); /* CNN_ISR sets cnn_time */
  if (cnn_unload((uint32_t *)out) != CNN_OK) return -1;
  *time_us = cnn_time;
  return 0;
}

int hal_layer_output(uint16_t layer, uint32_t offset, uint32_t max, int32_t *out, uint32_t *count,
                     uint32_t *total, uint8_t *elem_bytes) {
  (void)layer; (void)offset; (void)max; (void)out; (void)count; (void)total; (void)elem_bytes;
  return -1; /* intermediate layers are overwritten in place (ping-pong offsets) */
}

/* The input scaling the model was trained with (qatwb_model.h states it; NONE when model.json
 * recorded none). A sensor HAL that reads raw values (ADC counts, g, mV) into a float buffer hands
 * them to the CNN as qw_scale_window(raw, window, n, &qw_input_scaling): the same codes the
 * workbench computes from the same raw values, so the live check compares like with like. */
#ifndef QW_INPUT_SCALING_KIND
#define QW_INPUT_SCALING_KIND QW_SCALING_NONE
#define QW_INPUT_SCALING_MIN 0.0
#define QW_INPUT_SCALING_MAX 1.0
#endif
const qw_scaling qw_input_scaling = { QW_INPUT_SCALING_KIND, QW_INPUT_SCALING_MIN, QW_INPUT_SCALING_MAX };

int hal_sensor_capture(int8_t *window, size_t n) {
  (void)window; (void)n;
  return -1; /* no sensor wired in this build; a camera/microphone HAL goes here (see above) */
}

int main(void) {
  MXC_ICC_Enable(MXC_ICC0);
  MXC_SYS_Clock_Select(MXC_SYS_CLOCK_IPO);
  SystemCoreClockUpdate();
  CoreDebug->DEMCR |= CoreDebug_DEMCR_TRCENA_Msk;
  DWT->CYCCNT = 0;
  DWT->CTRL |= DWT_CTRL_CYCCNTENA_Msk;

  MXC_UART_Init(uart(), QW_BAUD, MXC_UART_IBRO_CLK);
  MXC_UART_SetRXThreshold(uart(), 1);
  MXC_NVIC_SetVector(MXC_UART_GET_IRQ(QW_UART), uart_isr);
  MXC_UART_EnableInt(uart(), MXC_F_UART_INT_EN_RX_THD);
  NVIC_EnableIRQ(MXC_UART_GET_IRQ(QW_UART));

  cnn_enable(MXC_S_GCR_PCLKDIV_CNNCLKSEL_IPLL, MXC_S_GCR_PCLKDIV_CNNCLKDIV_DIV4);
  cnn_init();
  cnn_load_weights();
  cnn_load_bias();

  qw_device_init();
  for (;;) qw_device_poll();
}
