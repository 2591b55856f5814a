/* Frame rules (RFC 6455 section 5): what a scripted peer sends after the
 * handshake, and what the engine must do about it. Run as
 * `test_frames server` or `test_frames client` for the role under test. */
#include "harness.h"

#define P1002 "err:PROTOCOL close:1002"

/* First header bytes: 0x80 FIN, 0x40/0x20/0x10 RSV1-3, low nibble opcode. */
static const hrow rows[] = {
    /* data frames that are fine */
    {"text", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "hello"), FEND}, 0, "text\"hello\"", "", WS_OPEN},
    {"binary", HR_BOTH, HC_DEFAULT, 0, {FR(0x82, "\x00\x01\xff"), FEND}, 0, "bin\"\\x00\\x01\\xff\"", "", WS_OPEN},
    {"empty text", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, ""), FEND}, 0, "text\"\"", "", WS_OPEN},
    {"empty binary", HR_BOTH, HC_DEFAULT, 0, {FR(0x82, ""), FEND}, 0, "bin\"\"", "", WS_OPEN},
    {"two messages in one read", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "a"), FR(0x82, "b"), FEND}, 0,
     "text\"a\" bin\"b\"", "", WS_OPEN},
    {"125-byte payload", HR_BOTH, HC_DEFAULT, 0, {FBIG(0x82, 125), FEND}, 0, "bin[125:az]", "", WS_OPEN},
    {"16-bit length", HR_BOTH, HC_DEFAULT, 0, {FBIG(0x82, 300), FEND}, 0, "bin[300:az]", "", WS_OPEN},
    {"16-bit length 65535", HR_BOTH, HC_DEFAULT, 0, {FBIG(0x81, 65535), FEND}, 0, "text[65535:az]", "", WS_OPEN},
    {"64-bit length", HR_BOTH, HC_DEFAULT, 0, {FBIG(0x82, 70000), FEND}, 0, "bin[70000:az]", "", WS_OPEN},
    {"16-bit form for a short payload", HR_BOTH, HC_DEFAULT, 0, {FRF(0x81, HF_LEN16, "abc"), FEND}, 0,
     "text\"abc\"", "", WS_OPEN},
    {"64-bit form for a short payload", HR_BOTH, HC_DEFAULT, 0, {FRF(0x82, HF_LEN64, "abc"), FEND}, 0,
     "bin\"abc\"", "", WS_OPEN},
    {"fragmented text", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "hel"), FR(0x80, "lo"), FEND}, 0, "text\"hello\"", "",
     WS_OPEN},
    {"fragmented binary, three parts", HR_BOTH, HC_DEFAULT, 0,
     {FR(0x02, "a"), FR(0x00, "b"), FR(0x80, "c"), FEND}, 0, "bin\"abc\"", "", WS_OPEN},
    {"empty fragments", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, ""), FR(0x00, ""), FR(0x80, "abc"), FEND}, 0,
     "text\"abc\"", "", WS_OPEN},
    {"empty last fragment", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "abc"), FR(0x80, ""), FEND}, 0, "text\"abc\"", "",
     WS_OPEN},
    {"many fragments", HR_BOTH, HC_DEFAULT, 0,
     {FR(0x02, "1"), FR(0x00, "2"), FR(0x00, "3"), FR(0x00, "4"), FR(0x00, "5"), FR(0x00, "6"), FR(0x00, "7"),
      FR(0x00, "8"), FR(0x00, "9"), FR(0x80, "0"), FEND},
     0, "bin\"1234567890\"", "", WS_OPEN},
    {"large fragments", HR_BOTH, HC_DEFAULT, 0, {FBIG(0x02, 40000), FBIG(0x00, 300), FBIG(0x80, 40000), FEND},
     0, "bin[80300:c370ce71]", "", WS_OPEN},

    /* control frames between fragments are fine */
    {"ping between fragments", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "hel"), FR(0x89, "p"), FR(0x80, "lo"), FEND},
     0, "ping\"p\" text\"hello\"", ">pong\"p\"", WS_OPEN},
    {"pong between fragments", HR_BOTH, HC_DEFAULT, 0, {FR(0x02, "ab"), FR(0x8A, "q"), FR(0x80, "cd"), FEND},
     0, "pong\"q\" bin\"abcd\"", "", WS_OPEN},
    {"125-byte ping between large fragments", HR_BOTH, HC_DEFAULT, 0,
     {FBIG(0x02, 3000), FBIG(0x89, 125), FBIG(0x80, 3000), FEND}, 0, "ping[125:az] bin[6000:31720d75]",
     ">pong[125:az]", WS_OPEN},
    {"close between fragments", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "hel"), FCLOSE(1000, ""), FEND}, 0,
     "close:1000", ">close:1000", HE_ROLE},

    /* reserved bits */
    {"RSV1 on text", HR_BOTH, HC_DEFAULT, 0, {FR(0xC1, "a"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"RSV2 on binary", HR_BOTH, HC_DEFAULT, 0, {FR(0xA2, "a"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"RSV3 on text", HR_BOTH, HC_DEFAULT, 0, {FR(0x91, "a"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"RSV1 on ping", HR_BOTH, HC_DEFAULT, 0, {FR(0xC9, "a"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"RSV on a continuation", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "a"), FR(0xC0, "b"), FEND}, 0, P1002,
     ">close:1002", WS_CLOSED},
    {"RSV after a good message", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "ok"), FR(0xF1, "a"), FEND}, 0,
     "text\"ok\" " P1002, ">close:1002", WS_CLOSED},

    /* reserved opcodes */
    {"opcode 3", HR_BOTH, HC_DEFAULT, 0, {FR(0x83, "a"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"opcode 4", HR_BOTH, HC_DEFAULT, 0, {FR(0x84, "a"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"opcode 5", HR_BOTH, HC_DEFAULT, 0, {FR(0x85, ""), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"opcode 6", HR_BOTH, HC_DEFAULT, 0, {FR(0x86, "a"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"opcode 7", HR_BOTH, HC_DEFAULT, 0, {FR(0x87, "a"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"opcode 11", HR_BOTH, HC_DEFAULT, 0, {FR(0x8B, "a"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"opcode 12", HR_BOTH, HC_DEFAULT, 0, {FR(0x8C, ""), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"opcode 13", HR_BOTH, HC_DEFAULT, 0, {FR(0x8D, "a"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"opcode 14", HR_BOTH, HC_DEFAULT, 0, {FR(0x8E, "a"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"opcode 15", HR_BOTH, HC_DEFAULT, 0, {FR(0x8F, "a"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"opcode 3 without FIN", HR_BOTH, HC_DEFAULT, 0, {FR(0x03, "a"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"reserved opcode between fragments", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "a"), FR(0x8B, "b"), FEND}, 0,
     P1002, ">close:1002", WS_CLOSED},
    {"reserved opcode after a ping", HR_BOTH, HC_DEFAULT, 0, {FR(0x89, "p"), FR(0x84, ""), FEND}, 0,
     "ping\"p\" " P1002, ">pong\"p\" >close:1002", WS_CLOSED},

    /* control frames: FIN and 125 bytes at most */
    {"ping without FIN", HR_BOTH, HC_DEFAULT, 0, {FR(0x09, "a"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"pong without FIN", HR_BOTH, HC_DEFAULT, 0, {FR(0x0A, "a"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"close without FIN", HR_BOTH, HC_DEFAULT, 0, {FR(0x08, "\x03\xe8"), FEND}, 0, P1002, ">close:1002",
     WS_CLOSED},
    {"ping of 125 bytes", HR_BOTH, HC_DEFAULT, 0, {FBIG(0x89, 125), FEND}, 0, "ping[125:az]", ">pong[125:az]",
     WS_OPEN},
    {"ping of 126 bytes", HR_BOTH, HC_DEFAULT, 0, {FBIG(0x89, 126), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"pong of 126 bytes", HR_BOTH, HC_DEFAULT, 0, {FBIG(0x8A, 126), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"close of 126 bytes", HR_BOTH, HC_DEFAULT, 0, {FBIG(0x88, 126), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"ping announcing 64 KiB", HR_BOTH, HC_DEFAULT, 0,
     {{0x89, HF_ANNOUNCE | HF_LEN64, "", 0, 65536}, FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"ping in the 16-bit form", HR_BOTH, HC_DEFAULT, 0, {FRF(0x89, HF_LEN16, "abcde"), FEND}, 0,
     "ping\"abcde\"", ">pong\"abcde\"", WS_OPEN},

    /* masking direction */
    {"unmasked text to a server", HR_SERVER, HC_DEFAULT, 0, {FRF(0x81, HF_UNMASKED, "a"), FEND}, 0, P1002,
     ">close:1002", WS_CLOSED},
    {"unmasked ping to a server", HR_SERVER, HC_DEFAULT, 0, {FRF(0x89, HF_UNMASKED, "a"), FEND}, 0, P1002,
     ">close:1002", WS_CLOSED},
    {"unmasked empty close to a server", HR_SERVER, HC_DEFAULT, 0, {FRF(0x88, HF_UNMASKED, ""), FEND}, 0, P1002,
     ">close:1002", WS_CLOSED},
    {"unmasked continuation to a server", HR_SERVER, HC_DEFAULT, 0,
     {FR(0x01, "a"), FRF(0x80, HF_UNMASKED, "b"), FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"masked text to a client", HR_CLIENT, HC_DEFAULT, 0, {FRF(0x81, HF_MASKED, "a"), FEND}, 0, P1002,
     ">close:1002", WS_CLOSED},
    {"masked pong to a client", HR_CLIENT, HC_DEFAULT, 0, {FRF(0x8A, HF_MASKED, ""), FEND}, 0, P1002,
     ">close:1002", WS_CLOSED},

    /* fragmentation order */
    {"continuation without a start", HR_BOTH, HC_DEFAULT, 0, {FR(0x80, "a"), FEND}, 0, P1002, ">close:1002",
     WS_CLOSED},
    {"unfinished continuation without a start", HR_BOTH, HC_DEFAULT, 0, {FR(0x00, "a"), FEND}, 0, P1002,
     ">close:1002", WS_CLOSED},
    {"continuation after a whole message", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "a"), FR(0x80, "b"), FEND}, 0,
     "text\"a\" " P1002, ">close:1002", WS_CLOSED},
    {"text inside a fragmented message", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "a"), FR(0x81, "b"), FEND}, 0, P1002,
     ">close:1002", WS_CLOSED},
    {"binary inside a fragmented text", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "a"), FR(0x02, "b"), FEND}, 0, P1002,
     ">close:1002", WS_CLOSED},
    {"text after a ping inside a fragmented message", HR_BOTH, HC_DEFAULT, 0,
     {FR(0x02, "a"), FR(0x89, ""), FR(0x81, "b"), FEND}, 0, "ping\"\" " P1002, ">pong\"\" >close:1002", WS_CLOSED},

    /* lengths */
    {"64-bit length with the top bit set", HR_BOTH, HC_DEFAULT, 0,
     {{0x82, HF_ANNOUNCE | HF_LEN64, "", 0, 0x8000000000000000ull}, FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"64-bit length all ones", HR_BOTH, HC_DEFAULT, 0,
     {{0x82, HF_ANNOUNCE | HF_LEN64, "", 0, 0xFFFFFFFFFFFFFFFFull}, FEND}, 0, P1002, ">close:1002", WS_CLOSED},
    {"64-bit length 2^63-1 is too big", HR_BOTH, HC_DEFAULT, HO_NOSTREAM,
     {{0x82, HF_ANNOUNCE | HF_LEN64, "", 0, 0x7FFFFFFFFFFFFFFFull}, FEND}, 0, "err:TOO_BIG close:1009",
     ">close:1009", WS_CLOSED},

    /* pings and pongs */
    {"ping answered with the same payload", HR_BOTH, HC_DEFAULT, 0, {FR(0x89, "hello"), FEND}, 0,
     "ping\"hello\"", ">pong\"hello\"", WS_OPEN},
    {"empty ping", HR_BOTH, HC_DEFAULT, 0, {FR(0x89, ""), FEND}, 0, "ping\"\"", ">pong\"\"", WS_OPEN},
    {"binary ping payload", HR_BOTH, HC_DEFAULT, 0, {FR(0x89, "\x00\xff\x80"), FEND}, 0,
     "ping\"\\x00\\xff\\x80\"", ">pong\"\\x00\\xff\\x80\"", WS_OPEN},
    {"pings answered in order", HR_BOTH, HC_DEFAULT, 0, {FR(0x89, "1"), FR(0x89, "2"), FR(0x81, "t"), FEND}, 0,
     "ping\"1\" ping\"2\" text\"t\"", ">pong\"1\" >pong\"2\"", WS_OPEN},
    {"no_auto_pong", HR_BOTH, HC_NOPONG, 0, {FR(0x89, "x"), FEND}, 0, "ping\"x\"", "", WS_OPEN},
    {"unsolicited pong", HR_BOTH, HC_DEFAULT, 0, {FR(0x8A, "u"), FR(0x81, "after"), FEND}, 0,
     "pong\"u\" text\"after\"", "", WS_OPEN},

    /* after a close */
    {"data after a close is ignored", HR_BOTH, HC_DEFAULT, 0, {FCLOSE(1000, "bye"), FR(0x81, "late"), FEND}, 0,
     "close:1000", ">close:1000", HE_ROLE},
    {"ping after a close gets no pong", HR_BOTH, HC_DEFAULT, 0, {FCLOSE(1000, ""), FR(0x89, "p"), FEND}, 0,
     "close:1000", ">close:1000", HE_ROLE},
    {"garbage after a close is ignored", HR_BOTH, HC_DEFAULT, 0, {FCLOSE(1001, ""), FR(0xF3, "x"), FEND}, 0,
     "close:1001", ">close:1001", HE_ROLE},

    /* sending from callbacks */
    {"echo from on_message", HR_BOTH, HC_ECHO, 0, {FR(0x81, "hi"), FR(0x82, "x"), FEND}, 0,
     "text\"hi\" bin\"x\"", ">text\"hi\" >bin\"x\"", WS_OPEN},
    {"echo of a fragmented message", HR_BOTH, HC_ECHO, 0, {FR(0x01, "hel"), FR(0x89, "p"), FR(0x80, "lo"), FEND},
     0, "ping\"p\" text\"hello\"", ">pong\"p\" >text\"hello\"", WS_OPEN},
    {"echo of many messages in one read", HR_BOTH, HC_ECHO, 0,
     {FR(0x81, "1"), FR(0x81, "2"), FR(0x89, "p"), FR(0x81, "3"), FBIG(0x82, 500), FR(0x81, "4"), FEND}, 0,
     "text\"1\" text\"2\" ping\"p\" text\"3\" bin[500:az] text\"4\"",
     ">text\"1\" >text\"2\" >pong\"p\" >text\"3\" >bin[500:az] >text\"4\"", WS_OPEN},
    {"echo, then close", HR_BOTH, HC_ECHO, 0, {FR(0x81, "a"), FBIG(0x82, 200), FCLOSE(1000, ""), FEND}, 0,
     "text\"a\" bin[200:az] close:1000", ">text\"a\" >bin[200:az] >close:1000", HE_ROLE},
    {"close from on_message", HR_BOTH, HC_CLOSEMSG, 0, {FR(0x81, "a"), FEND}, 0, "text\"a\"", ">close:1000",
     WS_CLOSING},
    {"close from on_message, peer answers", HR_BOTH, HC_CLOSEMSG, 0, {FR(0x81, "a"), FCLOSE(1000, ""), FEND}, 0,
     "text\"a\" close:1000", ">close:1000", HE_ROLE},

    /* the stream ends */
    {"EOF without a close", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "a"), FEND}, 1, "text\"a\" close:1006", "",
     WS_CLOSED},
    {"EOF inside a header", HR_BOTH, HC_DEFAULT, 0, {FRAW("\x82"), FEND}, 1, "close:1006", "", WS_CLOSED},
    {"EOF inside a payload", HR_BOTH, HC_DEFAULT, 0, {FANN(0x82, 10, "abc"), FEND}, 1, "close:1006", "",
     WS_CLOSED},
    {"EOF inside a fragmented message", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "abc"), FEND}, 1, "close:1006", "",
     WS_CLOSED},
};

int main(int argc, char **argv) {
    unsigned roles = HR_BOTH;
    if (argc > 1 && !strcmp(argv[1], "server")) roles = HR_SERVER;
    if (argc > 1 && !strcmp(argv[1], "client")) roles = HR_CLIENT;
    h_run_table(rows, sizeof rows / sizeof rows[0], 6, roles);
    return h_report();
}
