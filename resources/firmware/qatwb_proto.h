/* QAT Workbench device protocol: portable core (framing, CRC, message dispatch).
 * Frame layout, message types and payloads: docs/protocol.md. No dynamic memory, no libc beyond
 * memcpy/memmove/strlen; the board-specific parts are behind qatwb_hal.h. */
#ifndef QATWB_PROTO_H
#define QATWB_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define QW_SYNC0 0xA5u
#define QW_SYNC1 0x5Au
#define QW_HEADER_BYTES 8u
#define QW_TRAILER_BYTES 4u
#define QW_OVERHEAD (QW_HEADER_BYTES + QW_TRAILER_BYTES)
#ifndef QW_MAX_PAYLOAD
#define QW_MAX_PAYLOAD 16384u
#endif
#define QW_PROTOCOL_VERSION 1u

enum qw_type {
  QW_HELLO_REQ = 0x01, QW_INPUT = 0x02, QW_SENSOR_CTRL = 0x03, QW_LAYER_REQ = 0x04, QW_LAYER_CRC_REQ = 0x05,
  QW_HELLO = 0x81, QW_RESULT = 0x82, QW_SENSOR = 0x83, QW_LAYER_DUMP = 0x84, QW_LAYER_CRCS = 0x85,
  QW_ACK = 0x06, QW_NAK = 0x15, QW_ERROR = 0x7F
};

enum qw_error {
  QW_E_BAD_LENGTH = 1, QW_E_UNKNOWN_TYPE = 2, QW_E_BUSY = 3, QW_E_CNN_FAIL = 4,
  QW_E_NO_SUCH_LAYER = 5, QW_E_STALE_WINDOW = 6, QW_E_UNSUPPORTED = 7
};

uint32_t qw_crc32(const uint8_t *p, size_t n, uint32_t seed);
uint8_t qw_crc8(const uint8_t *p, size_t n);

/* Little-endian field access. */
void qw_put16(uint8_t *p, uint16_t v);
void qw_put32(uint8_t *p, uint32_t v);
uint16_t qw_get16(const uint8_t *p);
uint32_t qw_get32(const uint8_t *p);

/* Writes one frame into out (room for QW_OVERHEAD + len); returns its length. */
size_t qw_encode_frame(uint8_t *out, uint8_t type, uint16_t seq, const uint8_t *payload, uint16_t len);

typedef struct {
  uint8_t type;
  uint16_t seq;
  uint16_t len;
  const uint8_t *payload; /* valid until the next qw_decoder_push */
} qw_frame;

typedef struct {
  uint32_t frames, corrupt_frames, corrupt_payloads, garbage_bytes, resyncs;
} qw_decoder_stats;

typedef void (*qw_frame_fn)(void *ctx, const qw_frame *f);
/* A frame whose header was intact but whose CRC failed (seq known: NAK it). */
typedef void (*qw_corrupt_fn)(void *ctx, uint8_t type, uint16_t seq);

typedef struct {
  uint8_t buf[QW_OVERHEAD + QW_MAX_PAYLOAD + 64];
  size_t start, end;
  int in_garbage;
  qw_decoder_stats stats;
  qw_frame_fn on_frame;
  qw_corrupt_fn on_corrupt;
  void *ctx;
} qw_decoder;

void qw_decoder_init(qw_decoder *d, qw_frame_fn on_frame, qw_corrupt_fn on_corrupt, void *ctx);
/* Feeds any chunk of the byte stream; calls on_frame for each good frame, resynchronising after
 * garbage and rescanning a bad frame from its second byte, exactly as the host decoder does. */
void qw_decoder_push(qw_decoder *d, const uint8_t *bytes, size_t n);

/* Device side: call qw_device_init once, then qw_device_poll in the main loop. */
void qw_device_init(void);
void qw_device_poll(void);

#endif
