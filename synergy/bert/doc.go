// Package bert is a BERT encoder (Devlin et al. 2019) on synergo's nn stack,
// with a WordPiece tokenizer and loading of Hugging Face checkpoints
// (model.safetensors or pytorch_model.bin, config.json, vocab.txt).
//
// The text encoders of MISA, MAG-BERT and MMIM (the paper's §5.2 baselines)
// are BERT-base; synergo trains them either from a pretrained checkpoint or
// from scratch in a small configuration ("tiny", "mini") on synthetic token
// ids. Parameter names equal Hugging Face's (bert.embeddings.word_embeddings.weight,
// bert.encoder.layer.0.attention.self.query.weight, ...), so a checkpoint maps
// onto a Model one to one; Hugging Face stores Linear weights as (out, in)
// and they are transposed into nn.Linear's (in, out) on loading.
//
// The forward pass is Hugging Face's BertModel in eval or train mode:
//
//	E = LayerNorm(W_word[ids] + W_pos[0..L−1] + W_type[typeIDs]), dropout
//	for each layer:  A = LayerNorm(X + Dropout(MultiHead(X, mask) W_o + b_o))
//	                 X = LayerNorm(A + Dropout(GELU(A W_1 + b_1) W_2 + b_2))
//	pooled = tanh(X[:, 0] W_p + b_p)
//
// with attention softmax(Q Kᵀ/√d_h + (1 − mask)·(−10000)) V per head.
// Embed and ForwardFromEmbeddings split the pass after the embedding layer,
// where MAG-BERT inserts its multimodal gate.
package bert
