// Float parameters of a trained layer (before integer quantization), BatchNorm already folded,
// in PyTorch layout like LayerParams. The float ONNX export and the live check's float reference
// read these; training produces them.
export interface FloatLayerParams {
  /** Layer name (matches Layer.name). */
  name: string;
  /** Weights in PyTorch layout (see LayerParams.weights), in the ai8x float scale. */
  weight: Float32Array;
  /** Bias per output channel, or null. */
  bias: Float32Array | null;
}
