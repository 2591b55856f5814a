#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ (standard library only).

    python3 fuzz/gen_corpus.py            # regenerate every corpus
    python3 fuzz/gen_corpus.py fuzz_frame # just one
    python3 fuzz/gen_corpus.py --check    # compare only (a CTest test)

Each corpus directory is emptied and rewritten, so the committed seeds are
always exactly what this script makes. Inputs a campaign finds belong in a
scratch directory (see fuzz/README.md), and crashes in fuzz/regressions/.
The byte layouts follow the comments at the top of each fuzz_*.c file and of
fuzz_engine.h.
"""
import base64
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_for(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def frame(op, payload=b"", fin=True, mask=None, rsv=0, length_form=None):
    """One RFC 6455 frame. mask: 4 bytes or None. length_form forces the
    16-bit (126) or 64-bit (127) length encoding."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    n = len(payload)
    if length_form == 127 or (length_form is None and n > 0xFFFF):
        hdr = bytes([b0, 127]) + struct.pack(">Q", n)
    elif length_form == 126 or (length_form is None and n >= 126):
        hdr = bytes([b0, 126]) + struct.pack(">H", n)
    else:
        hdr = bytes([b0, n])
    if mask is None:
        return hdr + payload
    hdr = bytes([hdr[0], hdr[1] | 0x80]) + hdr[2:] + mask
    return hdr + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def close_payload(code, reason=b""):
    return struct.pack(">H", code) + reason


# --------------------------------------------------------------------------
def gen_utf8():
    def seed(text, split=0, sizes=0):
        return struct.pack(">H", split) + bytes([sizes]) + text

    s = {}
    s["ascii"] = seed(b"hello, world", 5, 3)
    s["empty"] = seed(b"")
    s["two-byte"] = seed("héllo".encode(), 2, 1)
    s["three-byte"] = seed("€uro ≠ €".encode(), 1, 2)
    s["four-byte"] = seed("a😀b🎉".encode(), 2, 7)
    s["mixed-long"] = seed(("The quick brown fox — ünïcödé ✓ 😀 " * 6).encode(), 77, 11)
    s["split-inside-4"] = seed("😀😀".encode(), 2, 0)
    s["overlong-c0"] = seed(b"ab\xc0\xafcd", 3, 1)
    s["overlong-e0"] = seed(b"\xe0\x80\xaf", 1, 1)
    s["overlong-f0"] = seed(b"\xf0\x80\x80\xaf", 2, 1)
    s["surrogate-ed-a0"] = seed(b"x\xed\xa0\x80y", 2, 1)
    s["max-u10ffff"] = seed(b"\xf4\x8f\xbf\xbf", 3, 1)
    s["above-u10ffff"] = seed(b"\xf4\x90\x80\x80", 1, 1)
    s["f5"] = seed(b"ok\xf5\x80\x80\x80", 1, 1)
    s["ff"] = seed(b"\xff", 0, 0)
    s["stray-continuation"] = seed(b"abc\x80def", 4, 2)
    s["truncated-3"] = seed(b"ab\xe2\x82", 3, 1)
    s["truncated-4"] = seed(b"\xf0\x9f\x98", 1, 1)
    s["ascii-then-bad-after-16"] = seed(b"A" * 33 + b"\xc3\x28" + b"B" * 20, 30, 15)
    s["ascii-then-multibyte-at-16"] = seed(b"A" * 16 + "é".encode() + b"A" * 40, 17, 4)
    s["bad-continuation"] = seed(b"\xc3\x28", 1, 0)
    s["ed-9f-bf"] = seed(b"\xed\x9f\xbf", 1, 1)
    s["ee-80-80"] = seed(b"\xee\x80\x80", 2, 1)
    return s


def gen_frame():
    m = b"\x37\xfa\x21\x3d"
    s = {}
    s["text-unmasked"] = frame(1, b"Hello")
    s["text-masked"] = frame(1, b"Hello", mask=m)
    s["binary-empty"] = frame(2)
    s["fragment-first"] = frame(1, b"Hel", fin=False)
    s["continuation"] = frame(0, b"lo", mask=m)
    s["ping"] = frame(9, b"ping", mask=m)
    s["pong"] = frame(10, b"pong")
    s["close-1000"] = frame(8, close_payload(1000, b"bye"), mask=m)
    s["close-1005-invalid"] = frame(8, close_payload(1005))
    s["close-4999"] = frame(8, close_payload(4999))
    s["close-1-byte"] = frame(8, b"\x03")
    s["len-125"] = frame(2, b"x" * 125)
    s["len-126"] = frame(2, b"y" * 126, mask=m)
    s["len-65535-header"] = frame(2, b"", length_form=126)[:2] + b"\xff\xff"
    s["len-65536-header"] = bytes([0x82, 0xff]) + struct.pack(">Q", 65536) + m
    s["len-64bit-top-bit"] = bytes([0x82, 127]) + b"\x80" + b"\x00" * 7
    s["len-64bit-max"] = bytes([0x82, 127]) + b"\x7f" + b"\xff" * 7
    s["nonminimal-126"] = frame(1, b"abc", length_form=126)
    s["nonminimal-127"] = frame(1, b"abc", mask=m, length_form=127)
    s["rsv1"] = frame(1, b"x", rsv=4)
    s["reserved-opcode-3"] = frame(3, b"")
    s["reserved-opcode-11"] = frame(11, b"", mask=m)
    s["control-fragmented"] = frame(9, b"", fin=False)
    s["control-126"] = frame(9, b"z" * 126)
    s["truncated"] = frame(2, b"abc", mask=m)[:4]
    s["one-byte"] = b"\x81"
    return s


def gen_base64():
    full = b"\x80"
    s = {}
    for name, text in [
        ("empty", b""),
        ("f", b"Zg=="),
        ("fo", b"Zm8="),
        ("foo", b"Zm9v"),
        ("foobar", b"Zm9vYmFy"),
        ("key", KEY.encode()),
        ("accept", accept_for(KEY).encode()),
        ("noncanonical-1", b"Zh=="),
        ("noncanonical-2", b"Zm9="),
        ("pad-in-middle", b"Zg==Zg=="),
        ("pad-only", b"===="),
        ("three-pad", b"Z==="),
        ("bad-length", b"Zm9vY"),
        ("bad-char", b"Zm9*"),
        ("url-alphabet", b"-_-_"),
        ("all-chars", b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
    ]:
        s[name] = full + text
    s["short-cap"] = b"\x02" + b"Zm9vYmFy"
    s["binary"] = b"\x81" + bytes(range(256))
    return s


REQUEST = (
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: " + KEY + "\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n"
)


def gen_request():
    r = REQUEST
    s = {}
    s["rfc-example"] = b"\x00" + r.encode()
    s["rfc-example-then-frame"] = b"\x00" + r.encode() + frame(1, b"hi", mask=b"abcd")
    s["minimal"] = b"\x00" + (
        "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
        "Sec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
    s["case-and-lists"] = b"\x00" + (
        "GET /a?b=c HTTP/1.1\r\nhost: h:8080\r\nUPGRADE: h2c, WebSocket\r\nconnection: keep-alive, Upgrade\r\n"
        "sec-websocket-key:   " + KEY + "  \r\nsec-websocket-version:13\r\n"
        "Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b,c\r\n\r\n").encode()
    s["small-limit"] = b"\x02" + r.encode()
    s["post"] = b"\x00" + r.replace("GET", "POST").encode()
    s["get-lowercase"] = b"\x00" + r.replace("GET", "get").encode()
    s["http-1.0"] = b"\x00" + r.replace("HTTP/1.1", "HTTP/1.0").encode()
    s["http-2.0"] = b"\x00" + r.replace("HTTP/1.1", "HTTP/2.0").encode()
    s["version-8"] = b"\x00" + r.replace("Version: 13", "Version: 8").encode()
    s["no-host"] = b"\x00" + r.replace("Host: server.example.com\r\n", "").encode()
    s["two-hosts"] = b"\x00" + r.replace("Host:", "Host: a\r\nHost:").encode()
    s["bad-key"] = b"\x00" + r.replace(KEY, "dGhlIHNhbXBsZSBub25jZQ").encode()
    s["key-17-bytes"] = b"\x00" + r.replace(KEY, "AAAAAAAAAAAAAAAAAAAAAAA=").encode()
    s["folding"] = b"\x00" + r.replace("Origin:", " folded\r\nOrigin:").encode()
    s["bad-header-name"] = b"\x00" + r.replace("Origin:", "Ori gin:").encode()
    s["control-char"] = b"\x00" + r.replace("example.com", "exa\x01mple.com").encode()
    s["bare-lf"] = b"\x00" + r.replace("Origin: http://example.com\r\n", "Origin: x\nY: z\r\n").encode()
    s["too-many-headers"] = b"\x00" + r.replace("\r\n\r\n", "\r\n" + "X: y\r\n" * 40 + "\r\n").encode()
    s["incomplete"] = b"\x00" + r[:-2].encode()
    s["no-upgrade"] = b"\x00" + r.replace("Upgrade: websocket\r\n", "").encode()
    s["empty-target"] = b"\x00GET  HTTP/1.1\r\n\r\n"
    s["request-line-only"] = b"\x00GET / HTTP/1.1\r\n\r\n"
    s["tab-in-target"] = b"\x00" + r.replace("GET /chat", "GET /ch\tat").encode()
    s["version-repeated"] = b"\x00" + r.replace("Origin:", "Sec-WebSocket-Version: 13\r\nOrigin:").encode()
    return s


def response(key=KEY, proto=None, status="101 Switching Protocols", extra=""):
    text = "HTTP/1.1 " + status + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    text += "Sec-WebSocket-Accept: " + accept_for(key) + "\r\n"
    if proto is not None:
        text += "Sec-WebSocket-Protocol: " + proto + "\r\n"
    return text + extra + "\r\n"


def gen_response():
    offer_chat = 2 << 3  # offers "chat, superchat"
    s = {}
    s["rfc-example"] = b"\x00" + response().encode()
    s["then-frame"] = b"\x00" + response().encode() + frame(1, b"hi")
    s["chat"] = bytes([offer_chat]) + response(proto="chat").encode()
    s["chat-not-offered"] = b"\x00" + response(proto="chat").encode()
    s["two-protocols"] = bytes([offer_chat]) + response(proto="chat, superchat").encode()
    s["wrong-accept"] = b"\x00" + response(key="AAAAAAAAAAAAAAAAAAAAAA==").encode()
    s["status-200"] = b"\x00" + response(status="200 OK").encode()
    s["status-no-reason"] = b"\x00" + response(status="101").replace("101\r\n", "101 \r\n").encode()
    s["http-1.0"] = b"\x00" + response().replace("HTTP/1.1", "HTTP/1.0").encode()
    s["extension"] = b"\x00" + response(extra="Sec-WebSocket-Extensions: permessage-deflate\r\n").encode()
    s["two-accepts"] = b"\x00" + response(extra="Sec-WebSocket-Accept: x\r\n").encode()
    s["small-limit"] = b"\x02" + response().encode()
    s["lowercase-headers"] = b"\x00" + response().replace("Upgrade:", "upgrade:").replace(
        "Connection: Upgrade", "connection: upgrade").encode()
    s["incomplete"] = b"\x00" + response().encode()[:-1]
    s["garbage"] = b"\x00HTTP/1.1 1x1 Nope\r\n\r\n"
    s["no-connection"] = b"\x00" + response().replace("Connection: Upgrade\r\n", "").encode()
    s["protocol-with-space"] = bytes([3 << 3]) + response(proto="a b").encode()
    return s


# --------------------------------------------------------------------------
# Engine inputs (fuzz_engine.h): 4 config bytes, schedule length, schedule
# pairs, then the peer's bytes.
F_STREAM, F_PREPEND, F_SENDV, F_CLOCK, F_NOPONG, F_STRUCT, F_ACTS, F_OPEN = (1 << i for i in range(8))


def engine(flags, b1=0x0B, b2=0x06, b3=0x00, sched=(), peer=b"", mood=0):
    """b1: rx index (low nibble: 11 = 4096 fixed) / max_message (high);
    b2: tx index (6 = 65536 fixed); b3: buffers / failures / scenario / ping;
    mood: what acting callbacks also do (1 on_error closes, 2 on_open
    closes, 4 answer pings and pongs)."""
    out = bytes([flags, b1, b2, b3, len(sched) | (mood << 5)])
    for piece, action in sched:
        out += bytes([piece, action])
    return out + peer


def piece(size_idx, how=0, toggle_block=False, tick=False):
    return size_idx | (how << 4) | (0x40 if toggle_block else 0) | (0x80 if tick else 0)


def act(kind, arg=0):
    return kind | (arg << 3)


def gen_engine(server):
    # The peer masks when it is a client (we are the server), and must not
    # when it is a server.
    mk = (lambda op, p=b"", **kw: frame(op, p, mask=b"\x11\x22\x33\x44", **kw)) if server else \
        (lambda op, p=b"", **kw: frame(op, p, **kw))
    zk = (lambda op, p=b"", **kw: frame(op, p, mask=b"\0\0\0\0", **kw)) if server else mk
    s = {}
    hello = mk(1, b"Hello") + mk(2, bytes(range(10))) + mk(9, b"ping") + mk(8, close_payload(1000, b"done"))
    s["prepend-hello-close"] = engine(F_PREPEND, peer=hello)
    s["prepend-zero-mask-text"] = engine(F_PREPEND, peer=zk(1, "héllo wörld 😀".encode()) + zk(8))
    s["open-hello-close"] = engine(F_OPEN, peer=hello)
    s["open-fragments-with-ping"] = engine(F_OPEN | F_ACTS, peer=(
        mk(1, "frag".encode(), fin=False) + mk(9, b"p") + mk(0, "mé".encode()[:2], fin=False)
        + mk(0, "é".encode()[1:] + b"nt", fin=True) + mk(8, close_payload(1001))))
    s["open-streaming-fragments"] = engine(F_OPEN | F_STREAM, peer=(
        mk(2, b"a" * 300, fin=False) + mk(10, b"") + mk(0, b"b" * 200) + mk(1, "€".encode())))
    s["open-invalid-utf8"] = engine(F_OPEN, peer=mk(1, b"ok\xc3\x28ok"))
    s["open-truncated-utf8"] = engine(F_OPEN, peer=mk(1, b"ok\xe2\x82"))
    s["open-bad-opcode"] = engine(F_OPEN, peer=mk(3))
    s["open-rsv"] = engine(F_OPEN, peer=mk(1, b"x", rsv=2))
    s["open-wrong-mask"] = engine(F_OPEN, peer=frame(1, b"x", mask=None if server else b"abcd"))
    s["open-continuation-first"] = engine(F_OPEN, peer=mk(0, b"x"))
    s["open-close-1-byte"] = engine(F_OPEN, peer=mk(8, b"\x03"))
    s["open-close-bad-code"] = engine(F_OPEN, peer=mk(8, close_payload(1005)))
    s["open-close-bad-reason"] = engine(F_OPEN, peer=mk(8, close_payload(1000, b"\xff")))
    s["open-too-big"] = engine(F_OPEN, b1=0x9B, peer=mk(2, b"z" * 300))
    s["open-64bit-length"] = engine(F_OPEN, peer=mk(2, b"q" * 70, length_form=127))
    s["small-rx-fixed"] = engine(F_OPEN, b1=0x00, peer=mk(2, b"q" * 200) + mk(8))
    s["refused-rx-fixed"] = engine(F_OPEN, b1=0x0F, peer=mk(2, b"q"))
    s["alloc-buffers"] = engine(F_PREPEND | F_ACTS, b3=0x01, peer=hello)
    s["alloc-fail-2nd"] = engine(F_PREPEND, b3=0x01 | (2 << 2), peer=hello)
    s["mixed-buffers"] = engine(F_PREPEND | F_STREAM, b3=0x02, peer=hello)
    s["pieces-pump"] = engine(F_PREPEND | F_SENDV, sched=[(piece(0, 1), 0), (piece(3, 2), act(1, 3)),
                                                          (piece(8, 3, True), 0)], peer=hello)
    s["actions-all"] = engine(F_PREPEND | F_CLOCK, sched=[
        (piece(15, 0), act(1, 5)), (piece(1, 1), act(2, 4)), (piece(1, 2), act(3, 0b11101)),
        (piece(1, 0), act(3, 0b00110)), (piece(2, 3, True), act(4, 2)), (piece(2, 0, True), act(6)),
        (piece(1, 0), act(7, 1)), (piece(1, 1, tick=True), act(5, 0))], peer=hello)
    s["keepalive-timeout"] = engine(F_PREPEND | F_CLOCK, b3=0x80, sched=[
        (piece(15, 0, tick=True), act(6)), (piece(0, 1, tick=True), act(6))], peer=b"")
    s["handshake-timeout"] = engine(F_CLOCK, sched=[(piece(0, 1, tick=True), act(6))] * 3, peer=b"GET")
    s["close-timeout"] = engine(F_PREPEND | F_CLOCK, sched=[
        (piece(15, 0), act(5, 0)), (piece(0, 1, tick=True), act(6)), (piece(0, 1, tick=True), act(6))])
    s["host-close-then-peer-close"] = engine(F_PREPEND | F_ACTS, sched=[
        (piece(15, 0), act(5, 1))], peer=mk(1, b"Closing") + mk(8, close_payload(1000)))
    s["structured"] = engine(F_OPEN | F_STRUCT, peer=bytes([
        0x01, 5, 0x00,    # text, not final, generated valid UTF-8
        0x89, 3, 0x02,    # ping with a mask key
        0x80, 200, 0x04,  # final continuation, non-minimal length
        0x82, 0xF1, 0x00,  # binary of 457 bytes
        0x88, 4, 0x00]))  # close 1000 "cd"
    s["structured-close-codes"] = engine(F_OPEN | F_STRUCT, peer=bytes([0x88, 2, 0x60]))
    s["structured-from-input"] = engine(F_OPEN | F_STRUCT | F_STREAM, peer=bytes([
        0x81, 6, 0x08]) + "wörld".encode() + bytes([0x88, 0, 0x00]))
    s["random-fails"] = engine(F_PREPEND | F_ACTS, b2=0x0E, peer=hello)
    s["small-tx"] = engine(F_PREPEND | F_ACTS, b2=0x00, peer=hello)
    s["mood-error-closes"] = engine(F_PREPEND | F_ACTS, mood=1, peer=mk(1, b"\xff"))
    s["mood-error-closes-handshake"] = engine(F_ACTS, mood=1, peer=b"GET / HTTP/1.0\r\n\r\n")
    s["mood-open-closes"] = engine(F_PREPEND | F_ACTS, mood=2, peer=hello)
    s["mood-answers"] = engine(F_PREPEND | F_ACTS | F_CLOCK, b3=0x80, mood=4, peer=(
        mk(9, b"abc") + mk(10, b"") + mk(1, b"Cya")), sched=[(piece(13, 0), act(6)), (piece(15, 1, tick=True), act(6))])
    # The close echo does not fit a full send queue: it is owed, and sent
    # once the queue drains.
    s["close-echo-owed"] = engine(F_PREPEND | F_ACTS, b2=0x00, peer=mk(2, b"x" * 200) + mk(8, close_payload(1000)),
                                  sched=[(piece(15, 0, toggle_block=True), 0), (piece(0, 1, toggle_block=True), act(6))])
    if server:
        for i, status in enumerate([403, 404, 408, 429, 503, 200, 42, 1000]):
            s["scenario-reject-%d" % status] = engine(F_PREPEND, b3=2 << 5, mood=i, peer=hello)
        s["scenario-chat"] = engine(F_PREPEND, b3=1 << 5, peer=hello)
        s["scenario-bogus"] = engine(F_PREPEND, b3=3 << 5, peer=hello)
        s["raw-request"] = engine(0, peer=REQUEST.encode() + hello)
        s["raw-bad-request"] = engine(0, peer=REQUEST.replace("13", "12").encode())
        s["raw-request-small-header-limit"] = engine(0, b2=0x86, peer=REQUEST.encode())
        s["raw-request-tiny-rx"] = engine(0, b1=0x00, peer=REQUEST.encode())
    else:
        s["scenario-chat"] = engine(F_PREPEND, b3=1 << 5, peer=hello)
        s["scenario-none-chosen"] = engine(F_PREPEND, b3=2 << 5, peer=hello)
        s["scenario-bogus"] = engine(F_PREPEND, b3=3 << 5, peer=hello)
        s["raw-wrong-accept"] = engine(0, peer=response(key="AAAAAAAAAAAAAAAAAAAAAA==").encode() + hello)
        s["raw-404"] = engine(0, peer=b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        s["raw-response-tiny-rx"] = engine(0, b1=0x00, peer=response().encode())
    return s


TARGETS = {
    "fuzz_utf8": gen_utf8,
    "fuzz_frame": gen_frame,
    "fuzz_base64": gen_base64,
    "fuzz_request": gen_request,
    "fuzz_response": gen_response,
    "fuzz_server": lambda: gen_engine(True),
    "fuzz_client": lambda: gen_engine(False),
}


def main(argv):
    check = "--check" in argv[1:]
    names = [a for a in argv[1:] if a != "--check"] or sorted(TARGETS)
    stale = []
    for name in names:
        if name not in TARGETS:
            sys.exit("unknown target %s (have: %s)" % (name, ", ".join(sorted(TARGETS))))
        seeds = TARGETS[name]()
        d = os.path.join(HERE, "corpus", name)
        if check:
            have = {}
            if os.path.isdir(d):
                for f in os.listdir(d):
                    with open(os.path.join(d, f), "rb") as fh:
                        have[f] = fh.read()
            for seed_name in sorted(set(have) | set(seeds)):
                if have.get(seed_name) != seeds.get(seed_name):
                    stale.append(os.path.join("corpus", name, seed_name))
            continue
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
        for seed_name, data in sorted(seeds.items()):
            with open(os.path.join(d, seed_name), "wb") as fh:
                fh.write(data)
        print("%-14s %3d seeds" % (name, len(seeds)))
    if check:
        if stale:
            print("fuzz/corpus differs from what gen_corpus.py writes (run python3 fuzz/gen_corpus.py):")
            for s in stale:
                print("  " + s)
            print("0 passed, 1 failed")
            return 1
        print("fuzz/corpus matches gen_corpus.py for %d targets" % len(names))
        print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
