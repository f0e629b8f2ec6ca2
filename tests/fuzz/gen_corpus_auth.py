#!/usr/bin/env python3
"""gen_corpus_auth.py - seeds for fuzz_auth (tests/fuzz/fuzz_auth.c). The first byte of a seed is
the mode: 0 a header value or token as is, 1 "HEADER-JSON\\nPAYLOAD-JSON" that the fuzzer signs,
2 a keys file, 3 keys in the environment form. The tokens are signed here with the standard
library (hmac, base64) and the fuzzer's secret; the fuzzer's "now" is 1700000000.

  python3 tests/fuzz/gen_corpus_auth.py
"""
import base64
import hashlib
import hmac
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus_auth")
SECRET = b"fuzz-secret-0123456789abcdef0123456789"  # as in fuzz_auth.c
KEYS = ["fuzz-key-alpha-0123", "fuzz_key.bravo+/==", "fuzz~key~charlie~~"]
NOW = 1700000000


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(header, payload, key=SECRET, alg=hashlib.sha256):
    h = b64u(json.dumps(header, separators=(",", ":")).encode())
    p = b64u(json.dumps(payload, separators=(",", ":")).encode())
    sig = hmac.new(key, (h + "." + p).encode(), alg).digest()
    return h + "." + p + "." + b64u(sig)


HS = {"alg": "HS256", "typ": "JWT"}
seeds = {
    # mode 0: credentials as sent
    "key_bearer": b"\x00Bearer " + KEYS[0].encode(),
    "key_bare": b"\x00" + KEYS[1].encode(),
    "key_tabs": b"\x00 \tbearer\t\t" + KEYS[2].encode() + b"  ",
    "wrong_key": b"\x00Bearer fuzz-key-alpha-0124",
    "basic": b"\x00Basic dXNlcjpwYXNz",
    "bearer_only": b"\x00Bearer",
    "empty": b"\x00",
    "jwt_ok": b"\x00Bearer " + jwt(HS, {"sub": "alice", "exp": NOW + 3600}).encode(),
    "jwt_expired": b"\x00" + jwt(HS, {"exp": NOW - 3600}).encode(),
    "jwt_nbf": b"\x00" + jwt(HS, {"exp": NOW + 3600, "nbf": NOW + 600}).encode(),
    "jwt_wrong_secret": b"\x00" + jwt(HS, {"exp": NOW + 60}, key=b"another-secret-of-32-bytes-or-more!!").encode(),
    "jwt_none": b"\x00" + (b64u(b'{"alg":"none"}') + "." + b64u(b'{"exp":1700003600}') + ".").encode(),
    "jwt_hs512": b"\x00" + jwt({"alg": "HS512"}, {"exp": NOW + 60}, alg=hashlib.sha512).encode(),
    "jwt_bad_b64": b"\x00eyJhbGciOiJIUzI1NiJ9.e$J.abc",
    # mode 1: header and payload the fuzzer signs
    "signed_ok": b'\x01{"alg":"HS256","typ":"JWT"}\n{"sub":"bob","exp":1700003600,"nbf":1699990000}',
    "signed_no_exp": b'\x01{"alg":"HS256"}\n{"sub":"bob"}',
    "signed_real_exp": b'\x01{"alg":"HS256"}\n{"exp":1.7000036e9,"sub":7}',
    "signed_dup_alg": b'\x01{"alg":"none","alg":"HS256"}\n{"exp":1700003600}',
    "signed_crit": b'\x01{"alg":"HS256","crit":["b64"]}\n{"exp":1700003600}',
    "signed_typ": b'\x01{"alg":"HS256","typ":"at+jwt"}\n{"exp":1700003600}',
    "signed_array": b'\x01{"alg":"HS256"}\n[1,2,3]',
    "signed_nul_claims": b'\x01{"alg":"HS256","typ":"JWT"}\n{"sub":"bob","exp":175\x00\n,"nbf":1699990000}',  # found by fuzzing
    "signed_unicode_sub": b'\x01{"alg":"HS256"}\n{"exp":1700003600,"sub":"\\u00e9\\n\\u0000x"}',
    # modes 2 and 3: keys
    "keys_file": b"\x02# keys\n\n  " + KEYS[0].encode() + b"  \r\n" + KEYS[1].encode() + b"\n#x\n",
    "keys_file_bad": b"\x02" + KEYS[0].encode() + b"\nshort\n",
    "keys_file_ctrl": b"\x02abcdefgh\x01ijklmnopq\n",
    "keys_env": b"\x03" + ",".join(KEYS).encode() + b",,\n" + b"x" * 20,
}

os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print("wrote", len(seeds), "seeds to", OUT)
