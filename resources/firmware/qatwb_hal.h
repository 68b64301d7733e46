/* What the protocol core needs from a board: a byte pipe, a clock, the CNN and (optionally) a
 * sensor. Implemented by hal_msdk.c (MAX78002 + MSDK + the izer's cnn.c) and hal_host.c (a host
 * build over stdio or a pty, used by the workbench's tests). */
#ifndef QATWB_HAL_H
#define QATWB_HAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *device_id;
  const char *firmware_id;
  uint32_t model_hash;      /* CRC-32 of checkpoint + YAML bytes, baked in at build time */
  uint8_t input_dims;       /* 2 (C, L) or 3 (C, H, W) */
  uint16_t input_shape[3];
  uint32_t output_count;
  uint8_t output_bits;      /* 32 for a wide output layer */
  uint8_t output_weight_bits;
  uint16_t layer_count;     /* layers hal_layer_output can return; 0 if none */
} qw_model_info;

/* Writes n bytes to the UART (may block until queued). */
void hal_uart_write(const uint8_t *p, size_t n);
/* Reads up to max bytes already received; never blocks; returns the count. */
size_t hal_uart_read(uint8_t *p, size_t max);
/* Microseconds since boot (wraps). */
uint32_t hal_micros(void);

const qw_model_info *hal_model_info(void);
/* Runs one inference on an int8 window (channel-first); writes output_count values.
 * Returns 0 on success; *time_us is the CNN time the device measured. */
int hal_cnn_infer(const int8_t *window, size_t n, int32_t *out, uint32_t *time_us);
/* Output of layer `layer` of the last inference: count values from offset into out, each in its
 * own int32; *total = the layer's size, *elem_bytes = 1 or 4. Returns 0, or -1 if unsupported. */
int hal_layer_output(uint16_t layer, uint32_t offset, uint32_t max, int32_t *out, uint32_t *count,
                     uint32_t *total, uint8_t *elem_bytes);
/* Captures one window from the board's sensor; returns 0, or -1 if the board has none.
 * n = 0 only asks whether there is a sensor. */
int hal_sensor_capture(int8_t *window, size_t n);

#endif
