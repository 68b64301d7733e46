/* Input scaling of a trained model (model.json input.scaling, docs/model-json.md): how a raw sensor
 * value becomes the int8 code the CNN takes, with arithmetic and rounding identical to the
 * workbench's (src-main/data/normalize.ts rawToCode), so a board that reads raw values feeds the
 * CNN exactly the numbers the model was trained and checked on. The generated qatwb_model.h
 * defines QW_INPUT_SCALING_KIND / _MIN / _MAX for the model it carries. */
#ifndef QATWB_SCALING_H
#define QATWB_SCALING_H

#include <stddef.h>
#include <stdint.h>

/* Kinds (model.json input.scaling.kind). NONE: the model records no scaling; feed int8 codes. */
#define QW_SCALING_NONE 0
#define QW_SCALING_UNIT 1   /* raw values already in [0, 1] */
#define QW_SCALING_MINMAX 2 /* the training file's own range [min, max] → [0, 1] */
#define QW_SCALING_RANGE 3  /* a given range [min, max] → [0, 1] */
#define QW_SCALING_INT8 4   /* raw values already int8 codes */

typedef struct {
  int kind;
  double min;
  double max;
} qw_scaling;

/* One raw value → int8 code: v as float, then in double u = (v − min) / (max − min) clamped to
 * [0, 1], code = round-half-even((u − 0.5) · 256) clamped to [−128, 127]; INT8: round (halves up)
 * and clamp. NaN gives 0. */
int8_t qw_scale_value(float raw, const qw_scaling *s);
/* n raw values → n codes. */
void qw_scale_window(const float *raw, int8_t *codes, size_t n, const qw_scaling *s);

#endif
