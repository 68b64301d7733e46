/* QAT Workbench device protocol, device side: message dispatch over the HAL (qatwb_hal.h).
 * See docs/protocol.md. */
#include "qatwb_hal.h"
#include "qatwb_proto.h"

#include <string.h>

#ifndef QW_MAX_OUTPUTS
#define QW_MAX_OUTPUTS 1024u
#endif
#ifndef QW_MAX_INPUT
#define QW_MAX_INPUT (QW_MAX_PAYLOAD - 8u - 4u * QW_MAX_OUTPUTS)
#endif

static qw_decoder rx;
static uint8_t tx[QW_OVERHEAD + QW_MAX_PAYLOAD];
static uint8_t last_reply[QW_OVERHEAD + QW_MAX_PAYLOAD];
static size_t last_reply_len;
static uint16_t last_reply_seq;
static int32_t outputs[QW_MAX_OUTPUTS];
static int32_t layer_buf[(QW_MAX_PAYLOAD - 16u) / 4u];
static uint16_t last_window_seq;
static int have_window;
static int sensor_on;
static uint32_t sensor_period_us, sensor_next_us;
static uint16_t sensor_seq;
static int8_t sensor_window[QW_MAX_INPUT];

static void send(uint8_t type, uint16_t seq, uint16_t len, int keep) {
  size_t n = qw_encode_frame(tx, type, seq, tx + QW_HEADER_BYTES, len);
  hal_uart_write(tx, n);
  if (keep) {
    memcpy(last_reply, tx, n);
    last_reply_len = n;
    last_reply_seq = seq;
  }
}

static void send_error(uint16_t seq, uint8_t code, const char *msg) {
  uint8_t *p = tx + QW_HEADER_BYTES;
  size_t n = strlen(msg);
  if (n > 255) n = 255;
  p[0] = code;
  p[1] = (uint8_t)n;
  memcpy(p + 2, msg, n);
  send(QW_ERROR, seq, (uint16_t)(2 + n), 1);
}

static size_t put_str(uint8_t *p, const char *s) {
  size_t n = strlen(s);
  if (n > 255) n = 255;
  p[0] = (uint8_t)n;
  memcpy(p + 1, s, n);
  return 1 + n;
}

static void on_hello(uint16_t seq) {
  const qw_model_info *m = hal_model_info();
  uint8_t *p = tx + QW_HEADER_BYTES;
  size_t o = 0;
  p[o++] = QW_PROTOCOL_VERSION;
  o += put_str(p + o, m->device_id);
  o += put_str(p + o, m->firmware_id);
  qw_put32(p + o, m->model_hash); o += 4;
  p[o++] = m->input_dims;
  for (int i = 0; i < m->input_dims; i++) { qw_put16(p + o, m->input_shape[i]); o += 2; }
  p[o++] = 8;
  qw_put32(p + o, m->output_count); o += 4;
  p[o++] = m->output_bits;
  p[o++] = m->output_weight_bits;
  qw_put16(p + o, m->layer_count); o += 2;
  send(QW_HELLO, seq, (uint16_t)o, 1);
}

static size_t input_length(void) {
  const qw_model_info *m = hal_model_info();
  size_t n = 1;
  for (int i = 0; i < m->input_dims; i++) n *= m->input_shape[i];
  return n;
}

static void on_input(const qw_frame *f) {
  const qw_model_info *m = hal_model_info();
  if (f->len != input_length() || m->output_count > QW_MAX_OUTPUTS) {
    send_error(f->seq, QW_E_BAD_LENGTH, "INPUT length does not match the model input");
    return;
  }
  uint32_t crc = qw_crc32(f->payload, f->len, 0);
  uint32_t time_us = 0;
  if (hal_cnn_infer((const int8_t *)f->payload, f->len, outputs, &time_us) != 0) {
    send_error(f->seq, QW_E_CNN_FAIL, "CNN inference failed");
    return;
  }
  last_window_seq = f->seq;
  have_window = 1;
  uint8_t *p = tx + QW_HEADER_BYTES;
  qw_put32(p, crc);
  qw_put32(p + 4, time_us);
  for (uint32_t i = 0; i < m->output_count; i++) qw_put32(p + 8 + 4 * i, (uint32_t)outputs[i]);
  send(QW_RESULT, f->seq, (uint16_t)(8 + 4 * m->output_count), 1);
}

/* Encodes count layer values as LAYER_DUMP carries them (int8, or int32 little-endian). */
static size_t put_values(uint8_t *p, const int32_t *v, uint32_t count, uint8_t elem) {
  size_t o = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (elem == 4) { qw_put32(p + o, (uint32_t)v[i]); o += 4; }
    else p[o++] = (uint8_t)v[i];
  }
  return o;
}

static void on_layer_req(const qw_frame *f) {
  if (f->len != 12) { send_error(f->seq, QW_E_BAD_LENGTH, "LAYER_REQ payload is 12 bytes"); return; }
  uint16_t window = qw_get16(f->payload), layer = qw_get16(f->payload + 2);
  uint32_t offset = qw_get32(f->payload + 4), max = qw_get32(f->payload + 8);
  if (!have_window || window != last_window_seq) {
    send_error(f->seq, QW_E_STALE_WINDOW, "only the last window's layers are kept");
    return;
  }
  uint32_t room = (uint32_t)(sizeof layer_buf / sizeof layer_buf[0]);
  if (max > room) max = room;
  uint32_t count = 0, total = 0;
  uint8_t elem = 1;
  if (hal_layer_output(layer, offset, max, layer_buf, &count, &total, &elem) != 0) {
    send_error(f->seq, layer < hal_model_info()->layer_count ? QW_E_UNSUPPORTED : QW_E_NO_SUCH_LAYER, "layer output not available");
    return;
  }
  if (count > room) count = room;
  uint8_t *p = tx + QW_HEADER_BYTES;
  qw_put16(p, window); qw_put16(p + 2, layer); qw_put16(p + 4, hal_model_info()->layer_count);
  p[6] = elem;
  qw_put32(p + 7, total); qw_put32(p + 11, offset);
  size_t o = 15 + put_values(p + 15, layer_buf, count, elem);
  send(QW_LAYER_DUMP, f->seq, (uint16_t)o, 1);
}

#ifndef QW_NO_LAYER_CRC
/* LAYER_CRCS: size, element width and CRC-32 of every layer of the last window, read through
 * hal_layer_output in chunks, so the host finds the first divergent layer with one request.
 * Build with -DQW_NO_LAYER_CRC to leave it out (the host then dumps the layers in order). */
static void on_layer_crc_req(const qw_frame *f) {
  if (f->len != 2) { send_error(f->seq, QW_E_BAD_LENGTH, "LAYER_CRC_REQ payload is 2 bytes"); return; }
  uint16_t window = qw_get16(f->payload);
  uint16_t layers = hal_model_info()->layer_count;
  if (!have_window || window != last_window_seq) {
    send_error(f->seq, QW_E_STALE_WINDOW, "only the last window's layers are kept");
    return;
  }
  if (4u + 9u * layers > QW_MAX_PAYLOAD) { send_error(f->seq, QW_E_UNSUPPORTED, "too many layers for one LAYER_CRCS"); return; }
  uint32_t room = (uint32_t)(sizeof layer_buf / sizeof layer_buf[0]);
  uint8_t *p = tx + QW_HEADER_BYTES;
  uint8_t *scratch = (uint8_t *)layer_buf; /* each chunk is encoded over itself, never ahead of a value still unread */
  qw_put16(p, window);
  qw_put16(p + 2, layers);
  for (uint16_t l = 0; l < layers; l++) {
    uint32_t offset = 0, total = 0, crc = 0;
    uint8_t elem = 1;
    do {
      uint32_t count = 0;
      if (hal_layer_output(l, offset, room, layer_buf, &count, &total, &elem) != 0 || (count == 0 && offset < total)) {
        send_error(f->seq, QW_E_UNSUPPORTED, "layer output not available");
        return;
      }
      size_t n = put_values(scratch, layer_buf, count, elem);
      crc = qw_crc32(scratch, n, crc);
      offset += count;
    } while (offset < total);
    uint8_t *e = p + 4 + 9u * l;
    qw_put32(e, total);
    e[4] = elem;
    qw_put32(e + 5, crc);
  }
  send(QW_LAYER_CRCS, f->seq, (uint16_t)(4u + 9u * layers), 1);
}
#endif

static void on_frame(void *ctx, const qw_frame *f) {
  (void)ctx;
  switch (f->type) {
    case QW_HELLO_REQ: on_hello(f->seq); break;
    case QW_INPUT: on_input(f); break;
    case QW_LAYER_REQ: on_layer_req(f); break;
#ifndef QW_NO_LAYER_CRC
    case QW_LAYER_CRC_REQ: on_layer_crc_req(f); break;
#endif
    case QW_NAK:
      if (last_reply_len && last_reply_seq == f->seq) hal_uart_write(last_reply, last_reply_len);
      break;
    case QW_SENSOR_CTRL:
      if (f->len != 5) { send_error(f->seq, QW_E_BAD_LENGTH, "SENSOR_CTRL payload is 5 bytes"); break; }
      if (f->payload[0] && hal_sensor_capture(sensor_window, 0) != 0) {
        send_error(f->seq, QW_E_UNSUPPORTED, "this board has no sensor");
        break;
      }
      sensor_on = f->payload[0] != 0;
      {
        uint32_t mhz = qw_get32(f->payload + 1); /* rate in milli-hertz */
        sensor_period_us = mhz ? (uint32_t)(1000000000ull / mhz) : 0;
      }
      sensor_next_us = hal_micros();
      send(QW_ACK, f->seq, 0, 0);
      break;
    case QW_ACK: break;
    default: send_error(f->seq, QW_E_UNKNOWN_TYPE, "unknown message type"); break;
  }
}

static void on_corrupt(void *ctx, uint8_t type, uint16_t seq) {
  (void)ctx;
  tx[QW_HEADER_BYTES] = type;
  send(QW_NAK, seq, 1, 0);
}

static void sensor_poll(void) {
  if (!sensor_on) return;
  uint32_t now = hal_micros();
  if ((int32_t)(now - sensor_next_us) < 0) return;
  sensor_next_us = now + sensor_period_us;
  const qw_model_info *m = hal_model_info();
  size_t n = input_length();
  if (n > QW_MAX_INPUT || hal_sensor_capture(sensor_window, n) != 0) return;
  uint32_t time_us = 0;
  have_window = 0; /* the CNN now holds this capture's layers, not the last INPUT's */
  if (hal_cnn_infer(sensor_window, n, outputs, &time_us) != 0) return;
  uint8_t *p = tx + QW_HEADER_BYTES;
  qw_put32(p, time_us);
  qw_put32(p + 4, (uint32_t)n);
  memcpy(p + 8, sensor_window, n);
  for (uint32_t i = 0; i < m->output_count; i++) qw_put32(p + 8 + n + 4 * i, (uint32_t)outputs[i]);
  send(QW_SENSOR, sensor_seq++, (uint16_t)(8 + n + 4 * m->output_count), 0);
}

void qw_device_init(void) {
  qw_decoder_init(&rx, on_frame, on_corrupt, 0);
}

void qw_device_poll(void) {
  uint8_t chunk[256];
  size_t n = hal_uart_read(chunk, sizeof chunk);
  if (n) qw_decoder_push(&rx, chunk, n);
  sensor_poll();
}
