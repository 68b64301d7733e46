"""QAT Workbench's PyTorch training engine.

Started by the app as a child process (``python -m qatwb_torch``). It reads the network from the
app's model IR (``model.json``), the data set from ``.npy`` files the app writes, and trains with the
same semantics as the embedded engine (src-main/training/): float phase, BatchNorm folded at the QAT
start, fake quantization with a clipped straight-through estimator, output shifts from the weights,
activation clamps and wide outputs (max78002.md §1). Progress goes to stdout as JSON lines; the
trained parameters come back as ``.npy`` files, so quantization and export stay the app's code.
"""

PROTOCOL = 1
