/* Host HAL shim: runs the protocol core on a PC over a pty/serial path (argv[1]) or stdin/stdout,
 * with a stand-in "CNN" (a fixed integer function of the window), so the workbench's tests can
 * talk to the C firmware core through a real pty. Build: cc -std=c99 qatwb_frame.c qatwb_device.c hal_host.c */
#define _DEFAULT_SOURCE
#include "qatwb_hal.h"
#include "qatwb_proto.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int fd_in = 0, fd_out = 1;
static int32_t last_out[10];
static volatile sig_atomic_t stop;

static const qw_model_info info = {
  "host-shim", "qatwb-fw host shim 1", 0x00005EEDu, 3, {1, 28, 28}, 10, 32, 8, 1,
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

/* Stand-in CNN: out[i mod 10] += w[i] * ((i mod 13) - 6), the same function as the TypeScript
 * test's stand-in model, so the host can check every result. */
int hal_cnn_infer(const int8_t *w, size_t n, int32_t *out, uint32_t *time_us) {
  uint32_t t0 = hal_micros();
  for (int k = 0; k < 10; k++) out[k] = 0;
  for (size_t i = 0; i < n; i++) out[i % 10] += (int32_t)w[i] * (int32_t)((int)(i % 13) - 6);
  for (int k = 0; k < 10; k++) last_out[k] = out[k];
  *time_us = hal_micros() - t0;
  return 0;
}

int hal_layer_output(uint16_t layer, uint32_t offset, uint32_t max, int32_t *out, uint32_t *count,
                     uint32_t *total, uint8_t *elem_bytes) {
  if (layer != 0) return -1;
  *total = 10;
  *elem_bytes = 4;
  uint32_t c = 0;
  for (uint32_t i = offset; i < 10 && c < max; i++) out[c++] = last_out[i];
  *count = c;
  return 0;
}

int hal_sensor_capture(int8_t *w, size_t n) {
  static uint32_t frame;
  for (size_t k = 0; k < n; k++) w[k] = (int8_t)(((k * 31u + frame * 17u) % 256u) - 128);
  if (n) frame++;
  return 0;
}

static void on_signal(int s) { (void)s; stop = 1; }

int main(int argc, char **argv) {
  if (argc > 1) {
    int fd = open(argv[1], O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) { perror(argv[1]); return 1; }
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
