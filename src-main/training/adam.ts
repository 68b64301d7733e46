// One-buffer Adam (PyTorch semantics: bias-corrected, eps added to √v̂): all gradients are
// concatenated into one vector so the moment updates run as a handful of large kernels instead
// of ~13 small ones per variable (training-speed.md §4.4).
import * as tf from '@tensorflow/tfjs';

export interface AdamState {
  m: Float32Array;
  v: Float32Array;
  step: number;
}

export class Adam {
  private readonly m: tf.Variable;
  private readonly v: tf.Variable;
  step = 0;

  constructor(
    private readonly vars: tf.Variable[],
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly eps = 1e-8,
    state?: AdamState,
  ) {
    const size = vars.reduce((n, v) => n + v.size, 0);
    if (state && (state.m.length !== size || state.v.length !== size)) {
      throw new Error(`training: resume state: optimizer has ${state.m.length} values, the model needs ${size}`);
    }
    // Built in tidy so the initial-value tensors are released (variables survive tidy).
    [this.m, this.v] = tf.tidy(() => [
      tf.variable(state ? tf.tensor1d(state.m) : tf.zeros([size]), false),
      tf.variable(state ? tf.tensor1d(state.v) : tf.zeros([size]), false),
    ]);
    this.step = state?.step ?? 0;
  }

  /** Apply one update; `grads` is keyed by variable name (tf.variableGrads output). */
  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    this.step++;
    const t = this.step;
    tf.tidy(() => {
      const g = tf.concat(this.vars.map((v) => tf.reshape(grads[v.name] ?? tf.zerosLike(v), [-1])));
      const m = tf.add(tf.mul(this.m, this.beta1), tf.mul(g, 1 - this.beta1));
      const v = tf.add(tf.mul(this.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
      this.m.assign(m);
      this.v.assign(v);
      const stepSize = lr / (1 - this.beta1 ** t);
      const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - this.beta2 ** t)), this.eps);
      const update = tf.mul(tf.div(m, denom), stepSize);
      const parts = tf.split(update, this.vars.map((x) => x.size));
      this.vars.forEach((x, i) => x.assign(tf.sub(x, tf.reshape(parts[i]!, x.shape))));
    });
  }

  state(): AdamState {
    return { m: this.m.dataSync().slice() as Float32Array, v: this.v.dataSync().slice() as Float32Array, step: this.step };
  }

  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}
