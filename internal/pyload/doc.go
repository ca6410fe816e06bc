// Package pyload holds what synergo's two readers of Python pickles — the
// dataset pickles of package datasets (datasets/pickle) and the PyTorch
// checkpoints of synergy/bert — both need before and after gopickle runs:
// CheckLengths, the guard that rejects a pickle whose length fields claim
// more bytes than the input holds (gopickle would allocate them first), and
// Float16, the exact decoding of IEEE 754 half-precision numbers (numpy
// float16 arrays, torch.HalfStorage, safetensors F16).
package pyload
