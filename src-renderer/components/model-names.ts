// The names of the models the app compares, one home for every screen. Two different float models
// exist and must never share a bare "float": the float baseline (end of the float phase, before QAT)
// that Train and Quantize measure quantization against, and the QAT run's own float twin (its
// latent weights before rounding, model.onnx) that the device check compares the board with.
export const MODEL_NAMES = {
  float: { name: 'Float baseline', what: 'the float model at the end of the float phase, before QAT (tfjs): what quantization is measured against' },
  ptq: { name: 'PTQ INT8', what: 'the float baseline rounded to the device\'s integers without retraining (bit-exact simulator)' },
  qat: { name: 'QAT INT8', what: 'the quantization-aware trained model as the device computes it (bit-exact simulator): what is exported' },
  floatTwin: { name: 'Float twin of QAT', what: 'the QAT model\'s own float weights before rounding, model.onnx in ONNX Runtime: the float reference the device is compared with' },
} as const;
