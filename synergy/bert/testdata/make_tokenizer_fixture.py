#!/usr/bin/python3
"""Reference tokenizations for synergy/bert's WordPiece tokenizer.

Run with Debian's python3 from this folder (after make_bert_fixture.py, which writes the vocabulary):
    /usr/bin/python3 make_tokenizer_fixture.py

A transcription of the uncased path of Google's BERT tokenization.py (BasicTokenizer + WordpieceTokenizer,
as also used by Hugging Face's BertTokenizer): clean the text (drop NUL, U+FFFD and control characters, map
whitespace to a space), surround CJK ideographs with spaces, split on whitespace, lower-case, strip accents
(NFD, drop category Mn), split on punctuation; then greedy longest-match-first WordPiece with "##"
continuations, [UNK] for a word longer than MAX_CHARS characters or with no match. Writes
tokenizer_fixture.json with, per sentence, the basic tokens, the word pieces, their ids, and the Encode
result (ids, attention mask) for a maximum length MAX_LEN ([CLS] ... [SEP], truncated, padded with [PAD]).
"""
import json
import os
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_CHARS = 100  # Hugging Face's max_input_chars_per_word (Google's original used 200)
MAX_LEN = 12

SENTENCES = [
    "The movie was NOT bad!",
    "I love the Café, but it's so naïve...",
    "Unaffable hyperactive players played",
    "Hello, World? Really; very (good).",
    "中文日本 and 中國",
    "Zürich\tÜBER crème brûlée, fiancé",
    "résumé 1990 and 2019 ru\u0301nning",
    "tab\tnew\nline\r\nand\u00a0nbsp\u3000ideographic space",
    "control\u0007char zero\u200bwidth soft\u00adhyphen bad\ufffdchar nul\u0000end",
    "a" * 101 + " " + "b" * 100,
    "ΣΑΣ ΟΔΟΣ lower σας",
    "İstanbul ǅemal ﬁne Straße",
    "\"quoted\" $100 50% #tag @user a&b ~tilde `tick` {brace} [bracket] |pipe|",
    "¿Qué? ¡Sí! «guillemets» — dash … ellipsis",
    "emoji 😀 and symbols ★ ©",
    "",
    "   ",
    "the the the the the the the the the the the the the the",
    "xyz unknownword runs running",
    "hello-world o'clock e.g. U.S.A.",
]


def is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def clean_text(text):
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or is_control(ch):
            continue
        out.append(" " if is_whitespace(ch) else ch)
    return "".join(out)


def tokenize_cjk(text):
    return "".join(" %s " % ch if is_cjk(ord(ch)) else ch for ch in text)


def strip_accents(text):
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")


def split_on_punc(text):
    out = []
    start_new = True
    for ch in text:
        if is_punctuation(ch):
            out.append([ch])
            start_new = True
        else:
            if start_new:
                out.append([])
            start_new = False
            out[-1].append(ch)
    return ["".join(x) for x in out]


def basic_tokenize(text):
    text = tokenize_cjk(clean_text(text))
    split = []
    for tok in text.strip().split():
        split.extend(split_on_punc(strip_accents(tok.lower())))
    return " ".join(split).strip().split()


def wordpiece(tokens, vocab):
    out = []
    for tok in tokens:
        chars = list(tok)
        if len(chars) > MAX_CHARS:
            out.append("[UNK]")
            continue
        start, pieces, bad = 0, [], False
        while start < len(chars):
            end, cur = len(chars), None
            while start < end:
                sub = "".join(chars[start:end])
                if start > 0:
                    sub = "##" + sub
                if sub in vocab:
                    cur = sub
                    break
                end -= 1
            if cur is None:
                bad = True
                break
            pieces.append(cur)
            start = end
        out.extend(["[UNK]"] if bad else pieces)
    return out


def main():
    with open(os.path.join(HERE, "tiny_checkpoint", "vocab.txt"), encoding="utf-8") as f:
        vocab = {line.rstrip("\n"): i for i, line in enumerate(f)}
    cases = []
    for s in SENTENCES:
        basic = basic_tokenize(s)
        pieces = wordpiece(basic, vocab)
        ids = [vocab[p] for p in pieces]
        body = ids[: MAX_LEN - 2]
        enc = [vocab["[CLS]"]] + body + [vocab["[SEP]"]]
        mask = [1] * len(enc) + [0] * (MAX_LEN - len(enc))
        enc += [vocab["[PAD]"]] * (MAX_LEN - len(enc))
        cases.append({"text": s, "basic": basic, "pieces": pieces, "ids": ids,
                      "encoded_ids": enc, "encoded_mask": mask})
    with open(os.path.join(HERE, "tokenizer_fixture.json"), "w", encoding="utf-8") as f:
        json.dump({"max_len": MAX_LEN, "max_chars_per_word": MAX_CHARS,
                   "unicode_version": unicodedata.unidata_version, "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
