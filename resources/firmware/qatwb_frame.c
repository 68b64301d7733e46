/* QAT Workbench device protocol, link layer: CRCs, frame encoding and the resynchronising
 * decoder. Pure (no HAL): the host tests link it alone. See docs/protocol.md. */
#include "qatwb_proto.h"

#include <string.h>

/* ---- CRCs --------------------------------------------------------------------------------- */

static uint32_t crc32_table[256];
static int crc32_ready;

static void crc32_init(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc32_table[n] = c;
  }
  crc32_ready = 1;
}

/* CRC-32/ISO-HDLC (zlib). `seed` is a previous result to continue from (0 to start). */
uint32_t qw_crc32(const uint8_t *p, size_t n, uint32_t seed) {
  if (!crc32_ready) crc32_init();
  uint32_t c = ~seed;
  for (size_t i = 0; i < n; i++) c = crc32_table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
  return ~c;
}

/* CRC-8, poly 0x07, init 0 (CRC-8/SMBUS). */
uint8_t qw_crc8(const uint8_t *p, size_t n) {
  uint8_t c = 0;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (uint8_t)((c & 0x80u) ? ((unsigned)c << 1) ^ 0x07u : ((unsigned)c << 1));
  }
  return c;
}

void qw_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
void qw_put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
uint16_t qw_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
uint32_t qw_get32(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }

size_t qw_encode_frame(uint8_t *out, uint8_t type, uint16_t seq, const uint8_t *payload, uint16_t len) {
  out[0] = QW_SYNC0;
  out[1] = QW_SYNC1;
  out[2] = type;
  qw_put16(out + 3, seq);
  qw_put16(out + 5, len);
  out[7] = qw_crc8(out + 2, 5);
  if (len && payload != out + QW_HEADER_BYTES) memmove(out + QW_HEADER_BYTES, payload, len);
  uint32_t crc = qw_crc32(out + QW_HEADER_BYTES, len, qw_crc32(out + 2, 5, 0));
  qw_put32(out + QW_HEADER_BYTES + len, crc);
  return QW_OVERHEAD + len;
}

/* ---- decoder ------------------------------------------------------------------------------ */

void qw_decoder_init(qw_decoder *d, qw_frame_fn on_frame, qw_corrupt_fn on_corrupt, void *ctx) {
  memset(&d->stats, 0, sizeof d->stats);
  d->start = d->end = 0;
  d->in_garbage = 0;
  d->on_frame = on_frame;
  d->on_corrupt = on_corrupt;
  d->ctx = ctx;
}

static void skip(qw_decoder *d, size_t n) {
  d->stats.garbage_bytes += (uint32_t)n;
  if (!d->in_garbage) d->stats.resyncs++;
  d->in_garbage = 1;
  d->start += n;
}

static void bad(qw_decoder *d, int header_good) {
  d->stats.corrupt_frames++;
  if (header_good) d->stats.corrupt_payloads++;
  d->start++; /* the real next frame may begin inside this one */
  d->in_garbage = 0;
}

static void parse(qw_decoder *d) {
  uint8_t *b = d->buf;
  for (;;) {
    size_t i = d->start;
    while (i < d->end && !(b[i] == QW_SYNC0 && (i + 1 >= d->end || b[i + 1] == QW_SYNC1))) i++;
    if (i > d->start) skip(d, i - d->start);
    if (d->end - d->start < QW_HEADER_BYTES) break;
    size_t s = d->start;
    if (qw_crc8(b + s + 2, 5) != b[s + 7]) { bad(d, 0); continue; }
    uint16_t len = qw_get16(b + s + 5);
    if (len > QW_MAX_PAYLOAD) { bad(d, 0); continue; }
    size_t total = QW_OVERHEAD + len;
    if (d->end - s < total) break;
    uint8_t type = b[s + 2];
    uint16_t seq = qw_get16(b + s + 3);
    uint32_t crc = qw_crc32(b + s + QW_HEADER_BYTES, len, qw_crc32(b + s + 2, 5, 0));
    if (crc != qw_get32(b + s + QW_HEADER_BYTES + len)) {
      bad(d, 1);
      if (d->on_corrupt) d->on_corrupt(d->ctx, type, seq);
      continue;
    }
    qw_frame f = { type, seq, len, b + s + QW_HEADER_BYTES };
    d->stats.frames++;
    d->in_garbage = 0;
    d->start = s + total;
    if (d->on_frame) d->on_frame(d->ctx, &f);
  }
  if (d->start == d->end) d->start = d->end = 0;
}

void qw_decoder_push(qw_decoder *d, const uint8_t *bytes, size_t n) {
  while (n > 0) {
    if (d->end == sizeof d->buf) {
      if (d->start > 0) {
        memmove(d->buf, d->buf + d->start, d->end - d->start);
        d->end -= d->start;
        d->start = 0;
      } else {
        skip(d, 1); /* cannot happen with a valid length limit; drop a byte rather than stall */
        continue;
      }
    }
    size_t room = sizeof d->buf - d->end;
    size_t k = n < room ? n : room;
    memcpy(d->buf + d->end, bytes, k);
    d->end += k;
    bytes += k;
    n -= k;
    parse(d);
  }
}

