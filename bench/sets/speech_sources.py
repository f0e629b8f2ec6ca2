"""speech_sources.py - find the real speech the evaluation sets are built from, with its transcripts.

Each source returns a list of Utterance (id, absolute audio path, reference text, language, source
duration in seconds) plus a dict of counts for the summary. Nothing here decodes or resamples audio:
durations come from the file header through the system libsndfile (tests/reference/refaudio.py).

Sources (docs/eval-sets.md has the licences):
  uz  SHARED/data/uz/usc/*.wav + .txt                       (ISSAI USC, 5 clips)
  ru  Debian asterisk-core-sounds-ru-wav prompts + transcripts from asterisk-core-sounds-ru,
      plus SHARED/data/ru/deepspeech_ru.wav + .txt
  en  SHARED/data/en/jfk.flac + .txt, and Debian pocketsphinx-testdata (librivox/, cards/)
"""
import gzip
import os
import re
from dataclasses import dataclass

ASTERISK_RU_DIR = "/usr/share/asterisk/sounds/ru_RU_f_IvrvoiceRU"
ASTERISK_RU_TEXT = "/usr/share/doc/asterisk-core-sounds-ru/core-sounds-ru.txt.gz"
SPHINX_DATA_DIR = "/usr/share/pocketsphinx/test/data"
MIN_PROMPT_SECONDS = 0.3

_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN = re.compile(r"[A-Za-z]")
_NOTE = re.compile(r"\[[^\]]*\]|<[^>]*>")  # [ascending tones], <beep ascending>
_PAREN_ONLY = re.compile(r"^\([^()]*\)$")        # (1 second of silence); words in (...) inside a text are spoken
# Latin letters that look like Cyrillic ones; used only inside words that mix both scripts (a typo in
# the prompt list: "первoe" with a Latin o).
_HOMOGLYPHS = str.maketrans("aceopxyABCEHKMOPTX", "асеорхуАВСЕНКМОРТХ")


class SourceMissing(Exception):
    """A source folder or file is absent; the message names what to install."""


@dataclass
class Utterance:
    id: str
    audio: str       # absolute path of the original file
    text: str
    language: str
    duration: float  # seconds, from the source file's header (frames / rate)
    source: str      # short provenance tag, e.g. "asterisk-ru:vm-intro"


def audio_info(path):
    """(frames, rate) from the file header through the system libsndfile; (0, 0) if unreadable."""
    import refaudio  # deferred: importing loads the system libraries
    info = refaudio._SFInfo()
    h = refaudio._SND.sf_open(str(path).encode(), 0x10, refaudio.ctypes.byref(info))
    if not h:
        return 0, 0
    refaudio._SND.sf_close(h)
    return int(info.frames), int(info.samplerate)


def _duration(path):
    frames, rate = audio_info(path)
    return frames / rate if rate > 0 else 0.0


def _need(path, what):
    if not os.path.exists(path):
        raise SourceMissing(f"{what} not found: {path}")


def _read_text(path):
    with open(path, encoding="utf-8") as f:
        return " ".join(f.read().split())


# ----------------------------------------------------------------------------------------------- uz

def uzbek(shared):
    folder = os.path.join(shared, "data", "uz", "usc")
    _need(folder, "Uzbek USC clips (see SHARED/data/README.md)")
    out = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".wav"):
            continue
        wav = os.path.join(folder, name)
        txt = wav[:-4] + ".txt"
        _need(txt, "transcript of " + name)
        stem = name[:-4]
        out.append(Utterance(f"uz-usc-{stem}", wav, _read_text(txt), "uz", _duration(wav), f"usc:{stem}"))
    if not out:
        raise SourceMissing(f"no .wav files in {folder}")
    return out, {"usc clips": len(out)}


# ----------------------------------------------------------------------------------------------- ru

def clean_prompt_text(name, raw):
    """(text, note): the prompt's spoken text and why it was changed or rejected (note '' = unchanged).
    text is '' when nothing speakable is left."""
    text = raw.strip()
    note = ""
    if text.startswith(name + ":"):           # "conf-adminmenu: conf-adminmenu: ..." in the list
        text = text[len(name) + 1:].strip()
        note = "repeated name"
    if _PAREN_ONLY.match(text):
        return "", "description only"
    if _NOTE.search(text):
        stripped = " ".join(_NOTE.sub(" ", text).split())
        note = "description only" if not stripped else "notes stripped"
        text = stripped
    if "(" in text or ")" in text:              # "пометку (статус) «важно»": the word is spoken
        text = " ".join(text.replace("(", " ").replace(")", " ").split())
        note = note or "parentheses dropped"
    words = []
    for w in text.split():
        if _CYRILLIC.search(w) and _LATIN.search(w):
            w = w.translate(_HOMOGLYPHS)
            note = note or "latin look-alike letters"
        words.append(w)
    return " ".join(words), note


def asterisk_prompts():
    """The Russian asterisk prompts: (list of Utterance, counts)."""
    if not os.path.isfile(ASTERISK_RU_TEXT):
        raise SourceMissing(f"Russian prompt transcripts not found ({ASTERISK_RU_TEXT}): "
                            "install the Debian package asterisk-core-sounds-ru")
    if not os.path.isdir(ASTERISK_RU_DIR):
        raise SourceMissing(f"Russian prompt audio not found ({ASTERISK_RU_DIR}): "
                            "install the Debian package asterisk-core-sounds-ru-wav")
    counts = {"transcript lines": 0, "skipped: description only": 0, "skipped: empty text": 0,
              "skipped: no Cyrillic text": 0, "skipped: wav missing": 0,
              f"skipped: shorter than {MIN_PROMPT_SECONDS} s": 0, "text: bracketed notes stripped": 0,
              "text: latin look-alikes fixed": 0, "text: repeated name removed": 0,
              "text: parentheses dropped, words kept": 0}
    out = []
    with gzip.open(ASTERISK_RU_TEXT, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    seen = set()
    for line in lines:
        if not line.strip() or line.startswith(";") or ":" not in line:
            continue
        name, raw = line.split(":", 1)
        name = name.strip()
        if name in seen:
            continue
        seen.add(name)
        counts["transcript lines"] += 1
        text, note = clean_prompt_text(name, raw)
        if note == "description only":
            counts["skipped: description only"] += 1
            continue
        if not text:
            counts["skipped: empty text"] += 1
            continue
        if not _CYRILLIC.search(text):
            counts["skipped: no Cyrillic text"] += 1
            continue
        wav = os.path.join(ASTERISK_RU_DIR, name + ".wav")
        if not os.path.isfile(wav):
            counts["skipped: wav missing"] += 1
            continue
        dur = _duration(wav)
        if dur < MIN_PROMPT_SECONDS:
            counts[f"skipped: shorter than {MIN_PROMPT_SECONDS} s"] += 1
            continue
        key = {"notes stripped": "text: bracketed notes stripped", "latin look-alike letters":
               "text: latin look-alikes fixed", "repeated name": "text: repeated name removed",
               "parentheses dropped": "text: parentheses dropped, words kept"}.get(note)
        if key:
            counts[key] += 1
        ident = "ru-ast-" + name.replace("/", "-")
        out.append(Utterance(ident, wav, text, "ru", dur, f"asterisk-ru:{name}"))
    counts["wav files without a transcript"] = _count_untranscribed(seen)
    counts["prompts kept"] = len(out)
    return out, counts


def _count_untranscribed(names):
    n = 0
    for root, _, files in os.walk(ASTERISK_RU_DIR):
        for fn in files:
            if fn.endswith(".wav"):
                rel = os.path.relpath(os.path.join(root, fn), ASTERISK_RU_DIR)[:-4]
                n += rel not in names
    return n


def russian(shared):
    prompts, counts = asterisk_prompts()
    wav = os.path.join(shared, "data", "ru", "deepspeech_ru.wav")
    _need(wav, "Russian DeepSpeech sample (see SHARED/data/README.md)")
    ds = Utterance("ru-deepspeech", wav, _read_text(wav[:-4] + ".txt"), "ru", _duration(wav), "deepspeech:ru")
    counts["deepspeech sample"] = 1
    return [ds] + sorted(prompts, key=lambda u: u.id), counts


def is_sentence_prompt(u, min_seconds=1.5, max_seconds=10.0):
    """A Russian prompt fit to be a code-switching piece: a full sentence of at least three words, not a
    fragment ("... что бы выйти"), no digits (their spoken form is ambiguous), 1.5-10 s long."""
    t = u.text
    if not (min_seconds <= u.duration <= max_seconds):
        return False
    if t.startswith(("...", "…")) or t.endswith(("...", "…")) or re.search(r"\d", t):
        return False
    return len([w for w in t.split() if _CYRILLIC.search(w)]) >= 3


# ----------------------------------------------------------------------------------------------- en

def parse_sphinx_transcription(text):
    """Lines '<s> words </s> (fileid)' -> {fileid: 'words'}; <s>, </s> and <sil> markers dropped."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(.*)\(([^()]+)\)\s*$", line.strip())
        if not m:
            continue
        words = [w for w in m.group(1).split() if w not in ("<s>", "</s>", "<sil>")]
        if words:
            out[m.group(2).strip()] = " ".join(words)
    return out


def _sphinx_set(folder, transcription, tag):
    with open(os.path.join(folder, transcription), encoding="utf-8") as f:
        refs = parse_sphinx_transcription(f.read())
    out, missing = [], 0
    for fileid in sorted(refs):
        wav = os.path.join(folder, fileid + ".wav")
        if not os.path.isfile(wav):
            missing += 1
            continue
        short = fileid.rsplit("-", 1)[-1] if tag == "librivox" else fileid
        out.append(Utterance(f"en-{tag}-{short}", wav, refs[fileid], "en", _duration(wav), f"{tag}:{fileid}"))
    return out, missing


def english(shared):
    flac = os.path.join(shared, "data", "en", "jfk.flac")
    _need(flac, "JFK clip (see SHARED/data/README.md)")
    utts = [Utterance("en-jfk", flac, _read_text(flac[:-5] + ".txt"), "en", _duration(flac), "whisper:jfk")]
    if not os.path.isdir(SPHINX_DATA_DIR):
        raise SourceMissing(f"English test speech not found ({SPHINX_DATA_DIR}): "
                            "install the Debian package pocketsphinx-testdata")
    counts = {"jfk": 1}
    for sub, trans, tag in (("librivox", "transcription", "librivox"), ("cards", "cards.transcription", "cards")):
        folder = os.path.join(SPHINX_DATA_DIR, sub)
        _need(os.path.join(folder, trans), "pocketsphinx-testdata transcription (Debian package pocketsphinx-testdata)")
        got, missing = _sphinx_set(folder, trans, tag)
        utts += got
        counts[f"pocketsphinx {tag}"] = len(got)
        if missing:
            counts[f"pocketsphinx {tag}: wav missing"] = missing
    return utts, counts
