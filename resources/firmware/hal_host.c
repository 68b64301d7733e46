/* Host HAL shim: runs the protocol core on a PC over a pty/serial path or stdin/stdout, with a
 * stand-in "CNN" of four integer layers, so the workbench's tests can talk to the C firmware core
 * through a real pty. Usage: qw_host [--bug-layer N] [--raw-sensor KIND,MIN,MAX] [PATH]. --bug-layer
 * flips the lowest bit of every value of layer N before the next layer reads it (a deployment bug,
 * as the virtual device injects it). --raw-sensor makes the sensor produce raw float values and
 * scale them with qatwb_scaling.c (KIND as qatwb_scaling.h numbers it), as a board with an analog
 * sensor would. Build: cc -std=c99 qatwb_frame.c qatwb_device.c qatwb_scaling.c hal_host.c */
#define _DEFAULT_SOURCE
#include "qatwb_hal.h"
#include "qatwb_proto.h"
#include "qatwb_scaling.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int fd_in = 0, fd_out = 1;
static volatile sig_atomic_t stop;
static int bug_layer = -1;
static int raw_sensor;
static qw_scaling sensor_scaling;

/* The stand-in network (test/device/stand-in-runtime.ts computes the same): 784 inputs →
 * expand (4×784 int8) → pool (pooling only, 4×392 int8) → wide (12×1568 int8, larger than one
 * LAYER_DUMP) → fc (10 int32 accumulators, the output). */
#define N_IN 784u
#define N_EXPAND (4u * N_IN)
#define N_POOL (N_EXPAND / 2u)
#define N_WIDE (12u * N_POOL)
#define N_OUT 10u
static int32_t expand[N_EXPAND], pooled[N_POOL], wide[N_WIDE], fc[N_OUT];
static int32_t *const layers[4] = { expand, pooled, wide, fc };
static const uint32_t layer_size[4] = { N_EXPAND, N_POOL, N_WIDE, N_OUT };

static const qw_model_info info = {
  "host-shim", "qatwb-fw host shim 2", 0x00005EEDu, 3, {1, 28, 28}, N_OUT, 32, 8, 4,
};

void hal_uart_write(const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(fd_out, p, n);
    if (k < 0) {
      struct pollfd w = { fd_out, POLLOUT, 0 };
      poll(&w, 1, 10);
      continue;
    }
    p += k;
    n -= (size_t)k;
  }
}

size_t hal_uart_read(uint8_t *p, size_t max) {
  struct pollfd r = { fd_in, POLLIN, 0 };
  if (poll(&r, 1, 1) <= 0) return 0;
  if (r.revents & (POLLHUP | POLLERR)) { stop = 1; return 0; }
  ssize_t k = read(fd_in, p, max);
  return k > 0 ? (size_t)k : 0;
}

uint32_t hal_micros(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint32_t)(t.tv_sec * 1000000ull + t.tv_nsec / 1000u);
}

const qw_model_info *hal_model_info(void) { return &info; }

static int32_t sat8(int32_t v) { return v < -128 ? -128 : v > 127 ? 127 : v; }

static void after_layer(int l) {
  if (l != bug_layer) return;
  for (uint32_t i = 0; i < layer_size[l]; i++) layers[l][i] ^= 1;
}

int hal_cnn_infer(const int8_t *w, size_t n, int32_t *out, uint32_t *time_us) {
  uint32_t t0 = hal_micros();
  if (n != N_IN) return -1;
  for (uint32_t i = 0; i < N_EXPAND; i++) expand[i] = sat8((int32_t)w[i % N_IN] * (int32_t)(i / N_IN + 1) / 2);
  after_layer(0);
  for (uint32_t i = 0; i < N_POOL; i++) pooled[i] = expand[2 * i] > expand[2 * i + 1] ? expand[2 * i] : expand[2 * i + 1];
  after_layer(1);
  for (uint32_t i = 0; i < N_WIDE; i++) wide[i] = sat8(pooled[i % N_POOL] + 3 * (int32_t)(i / N_POOL) - 17);
  after_layer(2);
  for (uint32_t k = 0; k < N_OUT; k++) fc[k] = 0;
  for (uint32_t i = 0; i < N_WIDE; i++) fc[i % N_OUT] += wide[i] * ((int32_t)(i % 13) - 6);
  after_layer(3);
  for (uint32_t k = 0; k < N_OUT; k++) out[k] = fc[k];
  *time_us = hal_micros() - t0;
  return 0;
}

int hal_layer_output(uint16_t layer, uint32_t offset, uint32_t max, int32_t *out, uint32_t *count,
                     uint32_t *total, uint8_t *elem_bytes) {
  if (layer >= 4) return -1;
  *total = layer_size[layer];
  *elem_bytes = layer == 3 ? 4 : 1;
  uint32_t c = 0;
  for (uint32_t i = offset; i < layer_size[layer] && c < max; i++) out[c++] = layers[layer][i];
  *count = c;
  return 0;
}

/* Raw mode: value k of capture `frame` is ((k·31 + frame·17) mod 1000)·0.37 − 100 in float
 * arithmetic (test/device/firmware.test.ts computes the same), scaled to codes like a real sensor's. */
static float raw_value(size_t k, uint32_t frame) {
  return (float)((k * 31u + frame * 17u) % 1000u) * 0.37f - 100.0f;
}

int hal_sensor_capture(int8_t *w, size_t n) {
  static uint32_t frame;
  static float raw[N_IN];
  if (raw_sensor && n <= N_IN) {
    for (size_t k = 0; k < n; k++) raw[k] = raw_value(k, frame);
    qw_scale_window(raw, w, n, &sensor_scaling);
  } else {
    for (size_t k = 0; k < n; k++) w[k] = (int8_t)(((k * 31u + frame * 17u) % 256u) - 128);
  }
  if (n) frame++;
  return 0;
}

static void on_signal(int s) { (void)s; stop = 1; }

int main(int argc, char **argv) {
  const char *path = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--bug-layer") == 0 && i + 1 < argc) bug_layer = atoi(argv[++i]);
    else if (strcmp(argv[i], "--raw-sensor") == 0 && i + 1 < argc) {
      char *end;
      sensor_scaling.kind = (int)strtol(argv[++i], &end, 10);
      sensor_scaling.min = strtod(end + 1, &end);
      sensor_scaling.max = strtod(end + 1, &end);
      raw_sensor = 1;
    }
    else path = argv[i];
  }
  if (path) {
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) { perror(path); return 1; }
    struct termios t;
    if (tcgetattr(fd, &t) == 0) { cfmakeraw(&t); tcsetattr(fd, TCSANOW, &t); }
    fd_in = fd_out = fd;
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  qw_device_init();
  fprintf(stderr, "qatwb host shim ready\n");
  while (!stop) qw_device_poll();
  return 0;
}
