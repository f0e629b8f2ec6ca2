"""hf_tokenizer_files.py - write Whisper's HF "slow" tokenizer files (vocab.json, merges.txt,
added_tokens.json, special_tokens_map.json, tokenizer_config.json) from an OpenAI .tiktoken rank
file, following the layout transformers' convert_openai_to_hf.py produces:

  vocab.json   the BPE tokens only (ids 0..n_bpe-1), each as GPT-2 byte-to-unicode text, dumped with
               indent=2, sort_keys=True, ensure_ascii=False (no <|endoftext|>: it is an added token)
  merges.txt   "#version: 0.2" then, for every token longer than one byte in rank order, the two
               parts that byte-level BPE restricted to ranks < the token's rank splits it into
  added tokens <|endoftext|>, <|startoftranscript|>, the languages, <|translate|>, <|transcribe|>,
               <|startoflm|>, <|startofprev|>, <|nospeech|>, <|notimestamps|> (special), then the
               timestamps <|0.00|>..<|30.00|> (not special), ids continuing from n_bpe.
Stdlib only (plus the language list passed in)."""
import base64
import json
import os


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character table."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    table = {}
    extra = 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def load_tiktoken(path):
    ranks = {}
    with open(path, "rb") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    return ranks


def _split_in_two(ranks, token, max_rank):
    parts = [bytes([b]) for b in token]
    while len(parts) > 1:
        best, best_i = None, -1
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and r < max_rank and (best is None or r < best):
                best, best_i = r, i
        if best is None:
            break
        parts[best_i:best_i + 2] = [parts[best_i] + parts[best_i + 1]]
    return parts


def special_token_list(languages, n_timestamps=1501):
    """(content, special) in id order after the BPE ranks."""
    out = [("<|endoftext|>", True), ("<|startoftranscript|>", True)]
    out += [(f"<|{code}|>", True) for code in languages]
    out += [(t, True) for t in ("<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>",
                                "<|nospeech|>", "<|notimestamps|>")]
    out += [("<|%.2f|>" % (i * 0.02), False) for i in range(n_timestamps)]
    return out


def write_tokenizer_files(tiktoken_path, languages, out_dir, model_max_length=448):
    ranks = load_tiktoken(tiktoken_path)
    enc = bytes_to_unicode()

    def txt(b):
        return "".join(enc[x] for x in b)

    vocab, merges = {}, []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        vocab[txt(token)] = rank
        if len(token) == 1:
            continue
        parts = _split_in_two(ranks, token, rank)
        if len(parts) == 2:
            merges.append(txt(parts[0]) + " " + txt(parts[1]))
    n_bpe = len(ranks)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(vocab, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for m in merges:
            f.write(m + "\n")

    specials = special_token_list(languages)
    added = {content: n_bpe + i for i, (content, _) in enumerate(specials)}
    with open(os.path.join(out_dir, "added_tokens.json"), "w", encoding="utf-8") as f:
        json.dump(added, f, indent=2, ensure_ascii=False)
        f.write("\n")
    eot = "<|endoftext|>"
    additional = [c for c, sp in specials if sp and c != eot]
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        json.dump({"additional_special_tokens": additional, "bos_token": eot, "eos_token": eot,
                   "pad_token": eot, "unk_token": eot}, f, indent=2)
        f.write("\n")
    decoder = {str(n_bpe + i): {"content": c, "lstrip": False, "normalized": not sp, "rstrip": False,
                                "single_word": False, "special": sp}
               for i, (c, sp) in enumerate(specials)}
    cfg = {"add_bos_token": False, "add_prefix_space": False, "added_tokens_decoder": decoder,
           "additional_special_tokens": additional, "bos_token": eot, "clean_up_tokenization_spaces": False,
           "eos_token": eot, "errors": "replace", "model_max_length": model_max_length,
           "pad_token": eot, "processor_class": "WhisperProcessor", "return_attention_mask": False,
           "tokenizer_class": "WhisperTokenizer", "unk_token": eot}
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return {"n_bpe": n_bpe, "n_merges": len(merges), "n_added": len(specials),
            "vocab_size": n_bpe + len(specials)}
