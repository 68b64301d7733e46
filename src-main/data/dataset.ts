// A labelled data set in memory, as training, the simulator and the live check read it. Samples
// are float32 in the accelerator's training range [-1, 127/128] (ai8x.normalize / 128), stored
// channel-first per sample: (C, H, W) for 2-D data, (C, L) for 1-D data.
export interface Dataset {
  name: string;
  /** Number of samples. */
  count: number;
  /** Per-sample shape: channels and [H, W] or [L]. */
  channels: number;
  dims: number[];
  /** count × C × prod(dims) values, channel-first per sample. */
  x: Float32Array;
  /** count labels in [0, classNames.length). */
  y: Int32Array;
  classNames: string[];
  /** How raw feature values became the training range: raw [min, max] → [0, 1] (int8: codes as they are). */
  scaling?: { kind: 'unit' | 'minmax' | 'range' | 'int8'; min: number; max: number };
}

/** Index lists of a train / validation / test split. */
export interface Split {
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
}
