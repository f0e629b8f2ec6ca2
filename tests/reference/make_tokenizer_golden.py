#!/usr/bin/env python3
"""Write tests/fixtures/tokenizer_golden.json: token ids from OAI's own tokenizer (tiktoken with
whisper.tokenizer.get_encoding, which reads whisper's bundled .tiktoken assets; nothing is
downloaded) for varied strings, both vocabularies; the non-speech lists; and a SHA-256 plus the
first entries of the merge list derived with the rule of OAI's convert_openai_to_hf.py.

Run from anywhere:  python3 tests/reference/make_tokenizer_golden.py
"""
import hashlib
import json
import os

import whisper.tokenizer as wt

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "tokenizer_golden.json")

TEXTS = [
    " Hello",
    "Hello world",
    " Hello, world! How's it going? I'm fine, they're here, we've done it, you'll see, he'd go.",
    "O'zbekiston Respublikasi poytaxti Toshkent shahri.",
    " o\u2018zbek tili",            # U+2018 left single quotation mark
    " g'alaba qozondi",              # ASCII apostrophe
    " ma\u2019no va ma\u02bcno",      # U+2019 and U+02BC modifier letter apostrophe
    " o\u02bbzbek g\u02bbalaba",      # U+02BB modifier letter turned comma (official Uzbek)
    " o`zbek ma`no",                  # backtick, a common keyboard substitute
    "Ўзбекистон Республикаси пойтахти Тошкент шаҳри.",
    " Қишлоқ хўжалиги ғалла ҳосили",
    "Привет, как дела? Всё хорошо, спасибо!",
    "съешь же ещё этих мягких французских булок, да выпей чаю",
    "The quick brown fox jumps over the lazy dog.",
    "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.",
    "emoji 😀🎉👍🏽 and flags 🇺🇿🇷🇺 and zwj 👨\u200d👩\u200d👧",
    "  leading spaces\tand\ttabs\n\nnew lines\r\n  trailing   ",
    "\n\n\n",
    "   ",
    " \u00a0non-breaking\u00a0spaces\u3000ideographic",
    "next\u0085line and\u2028line sep",
    "1234567890 3.14159 1,000,000 2024-05-17 ½ ² ٣٤٥",
    "12:30 pm, 45% off, $19.99, €5, №7",
    "♪♪♪ ♪ la la la ♪ ♩♫♬♭♮♯",
    "(SPEAKING FOREIGN LANGUAGE) [DAVID] Hey there, <<quote>> -- yes --- no",
    "日本語のテキストと中文文本",
    "한국어 텍스트입니다",
    "مرحبا بالعالم",
    "שלום עולם",
    "नमस्ते दुनिया",
    "Ελληνικά κείμενα",
    "Ça va? Très bien, merci. Straße, Übergröße, smörgåsbord",
    "Don't won't can't shouldn't y'all 's 't 're 've 'm 'll 'd",
    "DON'T SHOUT'S 'S",
    "a" * 300,
    "ab" * 200 + " " + "xyz" * 50,
    "https://example.com/path?query=1&b=2#frag user@mail.uz",
    "def f(x):\n    return x ** 2  # comment\n",
    "\u0000nul and \u0007bell and \u007f",
    "Mixed: Salom! Привет! Hello! 你好! مرحبا!",
    "  ",
    " -",
    " '",
    "e\u0301 combining acute, ñ precomposed",
]

MERGES_HEAD = 300  # explicit pairs kept in the fixture; the hash covers all of them


def load_ranks(path):
    ranks = {}
    with open(path) as f:
        for line in f:
            tok, rank = line.split()
            import base64
            ranks[base64.b64decode(tok)] = int(rank)
    return ranks


def derive_merges(ranks):
    """OAI convert_openai_to_hf.py rule: BPE each token with ranks below its own; keep 2-part results."""
    def bpe(token, max_rank):
        parts = [bytes([b]) for b in token]
        while True:
            min_idx, min_rank = None, None
            for i in range(len(parts) - 1):
                r = ranks.get(parts[i] + parts[i + 1])
                if r is not None and (min_rank is None or r < min_rank):
                    min_idx, min_rank = i, r
            if min_rank is None or min_rank >= max_rank:
                break
            parts = parts[:min_idx] + [parts[min_idx] + parts[min_idx + 1]] + parts[min_idx + 2:]
        return parts

    merges = []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) < 2:
            continue
        parts = bpe(token, rank)
        if len(parts) == 2:
            merges.append((parts[0].hex(), parts[1].hex()))
    return merges


def main():
    assets = os.path.join(os.path.dirname(wt.__file__), "assets")
    out = {"generator": "tests/reference/make_tokenizer_golden.py",
           "source": "openai-whisper get_encoding() + tiktoken", "vocabularies": {}}
    for name, multilingual in (("multilingual", True), ("gpt2", False)):
        enc = wt.get_encoding(name)
        vectors = [{"text": t, "ids": enc.encode_ordinary(t)} for t in TEXTS]
        for v in vectors:
            assert enc.decode_bytes(v["ids"]) == v["text"].encode("utf-8")
        tok = wt.get_tokenizer(multilingual=multilingual)
        merges = derive_merges(load_ranks(os.path.join(assets, name + ".tiktoken")))
        digest = hashlib.sha256("".join(f"{a} {b}\n" for a, b in merges).encode()).hexdigest()
        out["vocabularies"][name] = {
            "n_bpe": enc.eot_token,
            "vectors": vectors,
            "non_speech": list(tok.non_speech_tokens),
            "merges_count": len(merges),
            "merges_sha256": digest,
            "merges_head": [[a, b] for a, b in merges[:MERGES_HEAD]],
        }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
