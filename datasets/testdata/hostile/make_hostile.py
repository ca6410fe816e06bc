#!/usr/bin/python3
"""Writes pickles whose error messages a naive loader would make huge.

Run with Debian's python3 (standard library only):
    cd datasets/testdata/hostile && /usr/bin/python3 make_hostile.py

A pickle memoizes every container, so a tuple that holds the same tuple
twice, nested n deep, takes O(n) bytes but prints as 2^n leaves. A loader
that formats such a value whole (fmt's %v of the decoded keys) spends
memory exponential in the file size on the message.

  keys_dag_dumps.pkl   pickle.dumps of an MMSA-looking dict whose train split
                       has the key (t, t) nested 20 deep and no
                       regression_labels: about 150 bytes, 2^20 leaves
  keys_dag_deep.pkl    the same layout written opcode by opcode with the
                       key nested 400 deep (Python cannot build it through
                       dict: hashing the key takes 2^400 steps); also as
                       the value of the valid split's "config" and a label
  label_dag.pkl        a UR-FUNNY-style {id: label} dict whose label is the
                       400-deep tuple (the label error formats the value)
"""
import os
import pickle
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def dag(n):
    t = ("k",)
    for _ in range(n):
        t = (t, t)
    return t


def text(s):
    b = s.encode()
    return pickle.SHORT_BINUNICODE + bytes([len(b)]) + b


def dag_ops(n):
    """Opcodes that push the n-deep tuple: ("k",) then n times DUP, TUPLE2."""
    return text("k") + pickle.TUPLE1 + (pickle.DUP + pickle.TUPLE2) * n


def split_dict_ops(items):
    """Opcodes of a dict from (key opcodes, value opcodes) pairs."""
    out = pickle.EMPTY_DICT + pickle.MARK
    for k, v in items:
        out += k + v
    return out + pickle.SETITEMS


def main():
    dumped = {"train": {"raw_text": [], dag(20): 0}, "valid": {}, "test": {}}
    with open(os.path.join(HERE, "keys_dag_dumps.pkl"), "wb") as f:
        f.write(pickle.dumps(dumped, protocol=4))

    zero = pickle.BININT1 + b"\x00"
    train = split_dict_ops([(text("raw_text"), pickle.EMPTY_LIST), (dag_ops(400), zero)])
    deep = (pickle.PROTO + b"\x02" + split_dict_ops([
        (text("train"), train),
        (text("valid"), pickle.EMPTY_DICT),
        (text("test"), pickle.EMPTY_DICT),
        (dag_ops(400), zero),
    ]) + pickle.STOP)
    with open(os.path.join(HERE, "keys_dag_deep.pkl"), "wb") as f:
        f.write(deep)

    labels = (pickle.PROTO + b"\x02" + split_dict_ops([(pickle.BININT1 + b"\x07", dag_ops(400))]) + pickle.STOP)
    with open(os.path.join(HERE, "label_dag.pkl"), "wb") as f:
        f.write(labels)

    # The opcode-built files must be pickles Python reads (without hashing
    # the keys: pickletools only disassembles).
    import pickletools
    for name in ("keys_dag_deep.pkl", "label_dag.pkl"):
        with open(os.path.join(HERE, name), "rb") as f:
            pickletools.dis(f.read(), out=open(os.devnull, "w"))


if __name__ == "__main__":
    main()
