/* Test stub of an izer-generated cnn.h (max78002.md §4.3): the API hal_msdk.c calls. */
#ifndef STUB_CNN_H
#define STUB_CNN_H
#include <stdint.h>
#define CNN_OK 1
#define CNN_FAIL 0
#define CNN_NUM_OUTPUTS 10
int cnn_enable(uint32_t clock_source, uint32_t clock_divider);
int cnn_disable(void);
int cnn_init(void);
int cnn_configure(void);
int cnn_load_weights(void);
int cnn_load_bias(void);
int cnn_start(void);
int cnn_stop(void);
int cnn_unload(uint32_t *out_buf);
#endif
