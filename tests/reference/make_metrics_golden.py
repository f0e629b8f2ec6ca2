#!/usr/bin/env python3
"""make_metrics_golden.py - golden WER/CER counts from jiwer 4.0 for tests/test_metrics.c.

Writes tests/fixtures/metrics/jiwer_pairs.json: random reference/hypothesis pairs (fixed seed)
with jiwer's per-pair hits/substitutions/deletions/insertions on words (jiwer.process_words) and
on characters (jiwer.process_characters), and the corpus WER and CER of all pairs together
(jiwer.wer / jiwer.cer on the lists). Pairs:
  - "word": 0..30 words from a small vocabulary (Uzbek Latin with apostrophes, Russian Cyrillic,
    English-ish tokens), edited by deletions, substitutions, insertions, swaps, or replaced wholly;
  - "char": near-identical words with character typos (letters dropped, doubled, replaced,
    Latin/Cyrillic look-alikes, apostrophe variants), so the code-point alignment is exercised;
  - "edge": empty sides, identical texts, runs of spaces;
  - "long": a few pairs long enough to take rapidfuzz's Hirschberg path (> 4M matrix cells).
Run: python3 tests/reference/make_metrics_golden.py   (needs jiwer 4.0)
"""
import json
import os
import random
from importlib.metadata import version

import jiwer

SEED = 20240611
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "metrics", "jiwer_pairs.json")

VOCAB = [
    "men", "sen", "u", "biz", "va", "bu", "kitob", "o'zbek", "o'qish", "g'alaba", "ma'lumot", "bo'ldi",
    "qo'l", "yo'q", "salom", "rahmat", "toshkent", "maktab", "ish", "kerak", "bilan", "uchun",
    "oʻzbek", "gʻoya",  # U+02BB modifier letter turned comma, as in official Uzbek Latin
    "я", "ты", "он", "мы", "это", "да", "нет", "привет", "спасибо", "работа", "хорошо", "конечно",
    "ещё", "москва", "тоже", "просто",
    "ok", "a", "the",
]
LOOKALIKE = {"a": "а", "o": "о", "e": "е", "c": "с", "p": "р", "x": "х", "y": "у", "k": "к"}
ALPHABET = "abdefghijklmnopqrstuvxyz'" + "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"


def word_pair(rng):
    ref = [rng.choice(VOCAB) for _ in range(rng.randint(0, 30))]
    mode = rng.random()
    if mode < 0.1:  # unrelated hypothesis
        return ref, [rng.choice(VOCAB) for _ in range(rng.randint(0, 30))]
    p = rng.choice([0.0, 0.05, 0.15, 0.3, 0.6])
    hyp = []
    for w in ref:
        x = rng.random()
        if x < p / 4:
            continue  # deletion
        if x < p / 2:
            hyp.append(rng.choice(VOCAB))  # substitution (sometimes the same word)
        elif x < 3 * p / 4:
            hyp += [w, rng.choice(VOCAB)]  # insertion after
        elif x < p:
            hyp += [rng.choice(VOCAB), w]  # insertion before
        else:
            hyp.append(w)
    if len(hyp) > 2 and rng.random() < 0.2:  # swap two neighbours
        k = rng.randrange(len(hyp) - 1)
        hyp[k], hyp[k + 1] = hyp[k + 1], hyp[k]
    return ref, hyp


def typo(rng, w):
    chars = list(w)
    for _ in range(rng.randint(1, 3)):
        x = rng.random()
        k = rng.randrange(len(chars)) if chars else 0
        if x < 0.25 and chars:
            del chars[k]
        elif x < 0.5 and chars:
            chars[k] = rng.choice(ALPHABET)
        elif x < 0.7:
            chars.insert(k, rng.choice(ALPHABET))
        elif x < 0.85 and chars:
            chars.insert(k, chars[k])  # doubled letter
        elif chars:
            chars[k] = LOOKALIKE.get(chars[k], chars[k])
    return "".join(chars)


def char_pair(rng):
    ref = [rng.choice(VOCAB) for _ in range(rng.randint(1, 8))]
    hyp = [typo(rng, w) if rng.random() < 0.5 else w for w in ref]
    if rng.random() < 0.3:  # a word boundary lost or gained
        k = rng.randrange(len(hyp))
        hyp[k] = hyp[k][: len(hyp[k]) // 2] + " " + hyp[k][len(hyp[k]) // 2 :]
    if len(hyp) > 1 and rng.random() < 0.3:
        k = rng.randrange(len(hyp) - 1)
        hyp[k : k + 2] = [hyp[k] + hyp[k + 1]]
    return ref, hyp


def counts(o):
    return [o.hits, o.substitutions, o.deletions, o.insertions]


def main():
    rng = random.Random(SEED)
    pairs = []
    for _ in range(440):
        r, h = word_pair(rng)
        pairs.append(("word", " ".join(r), " ".join(h)))
    for _ in range(160):
        r, h = char_pair(rng)
        pairs.append(("char", " ".join(r), " ".join(h)))
    for r, h in [("", ""), ("", "salom dunyo"), ("salom dunyo", ""), ("bir ikki uch", "bir ikki uch"),
                 ("  o'zbek  tili ", "o'zbek tili"), ("да нет", " да  нет  "), ("a", "b"), ("a b", "b a")]:
        pairs.append(("edge", r, h))
    short = VOCAB[:4]  # few symbols: many equal-cost alignments
    for n_words, vocab in [(700, short), (600, VOCAB), (2600, short)]:
        ref = [rng.choice(vocab) for _ in range(n_words)]
        hyp = [w if rng.random() > 0.2 else rng.choice(vocab) for w in ref if rng.random() > 0.05]
        pairs.append(("long", " ".join(ref), " ".join(hyp)))
    # heavily edited long pairs: many equal-cost splits, so rapidfuzz's choice of the Hirschberg
    # split point shows in the counts
    tiny = ["men", "sen", "u", "biz", "va", "bu"]
    for k in range(10):
        ref = [rng.choice(tiny) for _ in range(640)]
        if k % 2:
            hyp = [rng.choice(tiny) for _ in range(rng.randint(560, 720))]
        else:
            hyp = [w if rng.random() > 0.5 else rng.choice(tiny) for w in ref if rng.random() > 0.2]
            hyp += [rng.choice(tiny) for _ in range(rng.randint(0, 150))]
        pairs.append(("long", " ".join(ref), " ".join(hyp)))

    out = []
    for kind, r, h in pairs:
        out.append({"kind": kind, "ref": r, "hyp": h,
                    "words": counts(jiwer.process_words(r, h)),
                    "chars": counts(jiwer.process_characters(r, h))})
    refs = [p[1] for p in pairs]
    hyps = [p[2] for p in pairs]
    doc = {
        "about": "jiwer %s counts [hits, substitutions, deletions, insertions] of words and characters; "
                 "regenerate with tests/reference/make_metrics_golden.py" % version("jiwer"),
        "seed": SEED,
        "corpus_wer": jiwer.wer(refs, hyps),
        "corpus_cer": jiwer.cer(refs, hyps),
        "pairs": out,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print("wrote", OUT, os.path.getsize(OUT), "bytes,", len(out), "pairs")


if __name__ == "__main__":
    main()
