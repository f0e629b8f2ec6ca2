#!/usr/bin/env python3
"""ws_stream.py - a uzw-stream/1 client over WebSocket (docs/protocol.md section 6) on the `websockets`
library, for tests/test_serve_http.c: sends HELLO, a mono s16le WAV in 200 ms AUDIO frames cut into
7001-byte messages (frames split across messages, several per message, as the spec allows), END, and prints
every server message on its own line as it arrives; it stops sending after a fatal error, as a client should.
With --bearer the key goes in the Authorization header instead of the HELLO.

usage: ws_stream.py URL WAV [--key KEY] [--bearer KEY]
Exit: 0 when the connection closed normally (1000) after the server's messages; 3 when the upgrade was
refused (prints "refused <status>"); 4 on an abnormal close (prints "closed <reason>")."""
import argparse
import asyncio
import json
import struct
import sys
import wave

import websockets


def frame(t, payload=b""):
    return struct.pack("<BI", t, len(payload)) + payload


async def run(a):
    w = wave.open(a.wav)
    assert w.getsampwidth() == 2, "s16 WAV expected"
    rate, ch, pcm = w.getframerate(), w.getnchannels(), w.readframes(w.getnframes())
    hello = {"protocol": "uzw-stream/1", "sample_rate": rate, "channels": ch, "format": "s16le", "interim": True,
             "language": "en"}
    if a.key:
        hello["api_key"] = a.key
    headers = {"Authorization": "Bearer " + a.bearer} if a.bearer else None
    step = rate * ch * 2 // 5
    stream = frame(1, json.dumps(hello).encode())
    stream += b"".join(frame(2, pcm[i:i + step]) for i in range(0, len(pcm), step)) + frame(3)
    try:
        async with websockets.connect(a.url, additional_headers=headers, max_size=None) as ws:
            failed = asyncio.Event()

            async def send():
                for i in range(0, len(stream), 7001):
                    if failed.is_set():
                        return
                    await ws.send(stream[i:i + 7001])
                    await asyncio.sleep(0)

            sender = asyncio.create_task(send())
            async for m in ws:
                print(m if isinstance(m, str) else "BINARY", flush=True)
                if isinstance(m, str) and json.loads(m).get("fatal"):
                    failed.set()
            try:
                await sender
            except websockets.exceptions.ConnectionClosedOK:
                pass
    except websockets.exceptions.InvalidStatus as e:
        print("refused", e.response.status_code)
        return 3
    except websockets.exceptions.ConnectionClosedError as e:
        print("closed", e)
        return 4
    return 0


p = argparse.ArgumentParser()
p.add_argument("url")
p.add_argument("wav")
p.add_argument("--key")
p.add_argument("--bearer")
sys.exit(asyncio.run(run(p.parse_args())))
