/* Raw sensor values → int8 CNN input, as the model was trained (qatwb_scaling.h). Double precision
 * throughout (soft-float on a Cortex-M4, still IEEE-exact), no libm: the same operations in the
 * same order as the workbench, so every code is identical (test/device/firmware.test.ts). */
#include "qatwb_scaling.h"

/* floor() for |v| < 2^62 without libm. */
static double qw_floor(double v) {
  double t = (double)(long long)v;
  return t > v ? t - 1.0 : t;
}

int8_t qw_scale_value(float raw, const qw_scaling *s) {
  double v = (double)raw;
  if (v != v) return 0;
  if (s->kind == QW_SCALING_INT8) {
    if (v >= 127.5) return 127;
    if (v < -128.5) return -128;
    double q = qw_floor(v + 0.5); /* exact for a float v in this range */
    return (int8_t)(q < -128.0 ? -128 : q > 127.0 ? 127 : (int)q);
  }
  double u = (v - s->min) / (s->max - s->min);
  u = u < 0.0 ? 0.0 : u > 1.0 ? 1.0 : u;
  double x = (u - 0.5) * 256.0;
  double f = qw_floor(x);
  double d = x - f;
  double q = d > 0.5 ? f + 1.0 : d < 0.5 ? f : (((long long)f & 1) == 0 ? f : f + 1.0);
  return (int8_t)(q < -128.0 ? -128 : q > 127.0 ? 127 : (int)q);
}

void qw_scale_window(const float *raw, int8_t *codes, size_t n, const qw_scaling *s) {
  for (size_t i = 0; i < n; i++) codes[i] = qw_scale_value(raw[i], s);
}
