// The one refusal of a network import: which node of the source file, which layer of the would-be
// network, what is wrong and what to change, in one message. The CLI prints it as
// `{error: {code, node, layer, message}}` and exits 2; nothing is written.

export class ImportError extends Error {
  override name = 'ImportError';
  constructor(
    /** Stable reason, e.g. `unsupported-op`, `dynamic-shape`, `rule:conv2d-kernel`. */
    readonly code: string,
    /** The source node (ONNX node name, YAML `layers[i]`, checkpoint key); '' for the whole file. */
    readonly node: string,
    /** The network layer it would become (name), or '' when none. */
    readonly layer: string,
    /** What is wrong, in plain words. */
    readonly problem: string,
    /** What to change. */
    readonly fix: string,
    /** The file, as the user named it. */
    readonly file = '',
  ) {
    super(`${file ? `${file}: ` : ''}${node ? `node ${node}` : 'the model'}${layer ? ` (layer ${layer})` : ''}: ${problem} Fix: ${fix}`);
  }

  toJSON(): { code: string; node: string; layer: string; message: string } {
    return { code: this.code, node: this.node, layer: this.layer, message: this.message };
  }
}
