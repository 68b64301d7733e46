/* Test-vector tool for the workbench's tests: checks the C framing and input scaling against the
 * TypeScript ones.
 * stdin lines:  E <type> <seq> <payload-hex>   → prints the encoded frame as hex
 *               D <chunk> <stream-hex>          → decodes the stream fed in <chunk>-byte pieces;
 *                                                 prints "F type seq hex" per frame, "C type seq"
 *                                                 per corrupt payload, then "S" + the counters.
 *               Q <kind> <min> <max> <raw>...   → scales raw float32 values (8 hex digits of their
 *                                                 bits each; min/max: 16 hex digits of double bits)
 *                                                 and prints the int8 codes, space-separated. */
#include "qatwb_proto.h"
#include "qatwb_scaling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t unhex(const char *s, uint8_t *out) {
  size_t n = 0;
  while (s[0] && s[1] && s[0] != '\n') {
    unsigned v;
    sscanf(s, "%2x", &v);
    out[n++] = (uint8_t)v;
    s += 2;
  }
  return n;
}

static void hex(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
}

static void on_frame(void *ctx, const qw_frame *f) {
  (void)ctx;
  printf("F %u %u ", f->type, f->seq);
  hex(f->payload, f->len);
  printf("\n");
}

static void on_corrupt(void *ctx, uint8_t type, uint16_t seq) {
  (void)ctx;
  printf("C %u %u\n", type, seq);
}

static double bits_to_double(unsigned long long b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

static void scale_line(const char *p) {
  char *end;
  qw_scaling s;
  s.kind = (int)strtol(p, &end, 10);
  s.min = bits_to_double(strtoull(end, &end, 16));
  s.max = bits_to_double(strtoull(end, &end, 16));
  const char *sep = "";
  for (;;) {
    while (*end == ' ') end++;
    if (*end == '\0' || *end == '\n') break;
    uint32_t b = (uint32_t)strtoul(end, &end, 16);
    float v;
    memcpy(&v, &b, sizeof v);
    printf("%s%d", sep, qw_scale_value(v, &s));
    sep = " ";
  }
  printf("\n");
}

static char line[4 * 1024 * 1024];
static uint8_t bytes[2 * 1024 * 1024];
static uint8_t frame[QW_OVERHEAD + QW_MAX_PAYLOAD];
static qw_decoder dec;

int main(void) {
  while (fgets(line, sizeof line, stdin)) {
    if (line[0] == 'E') {
      unsigned type, seq;
      int off = 0;
      sscanf(line + 2, "%u %u %n", &type, &seq, &off);
      size_t n = unhex(line + 2 + off, bytes);
      size_t len = qw_encode_frame(frame, (uint8_t)type, (uint16_t)seq, bytes, (uint16_t)n);
      hex(frame, len);
      printf("\n");
    } else if (line[0] == 'Q') {
      scale_line(line + 2);
    } else if (line[0] == 'D') {
      unsigned chunk;
      int off = 0;
      sscanf(line + 2, "%u %n", &chunk, &off);
      size_t n = unhex(line + 2 + off, bytes);
      qw_decoder_init(&dec, on_frame, on_corrupt, 0);
      for (size_t p = 0; p < n; p += chunk) qw_decoder_push(&dec, bytes + p, n - p < chunk ? n - p : chunk);
      printf("S %u %u %u %u %u\n", dec.stats.frames, dec.stats.corrupt_frames, dec.stats.corrupt_payloads,
             dec.stats.garbage_bytes, dec.stats.resyncs);
    }
    fflush(stdout);
  }
  return 0;
}
