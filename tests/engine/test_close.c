/* The closing handshake (RFC 6455 sections 5.5.1, 7): close codes and
 * reasons, the echo, nothing sent after a close, who ends the TCP stream
 * (the server; the client waits for it, within a timeout), on_close exactly
 * once with the right code and reason, 1006 without a close frame. */
#include "harness.h"

#define P1002 "err:PROTOCOL close:1002"
#define BADCODE(c) {"invalid code " #c, HR_BOTH, HC_DEFAULT, 0, {FCLOSE(c, ""), FEND}, 0, P1002, ">close:1002", WS_CLOSED}
#define GOODCODE(c)                                                                                \
    {"valid code " #c, HR_BOTH, HC_DEFAULT, 0, {FCLOSE(c, "r"), FEND}, 0, "close:" #c, ">close:" #c, HE_ROLE}

static const hrow rows[] = {
    {"close 1000 with a reason", HR_BOTH, HC_DEFAULT, 0, {FCLOSE(1000, "bye"), FEND}, 0, "close:1000",
     ">close:1000", HE_ROLE},
    {"close without a payload", HR_BOTH, HC_DEFAULT, 0, {FR(0x88, ""), FEND}, 0, "close:1005", ">close", HE_ROLE},
    {"close with only a code", HR_BOTH, HC_DEFAULT, 0, {FCLOSE(1001, ""), FEND}, 0, "close:1001", ">close:1001",
     HE_ROLE},
    {"close with a 123-byte reason", HR_BOTH, HC_DEFAULT, 0,
     {FCLOSE(4000, "123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
                   "123456789012345678901234567890123"),
      FEND},
     0, "close:4000", ">close:4000", HE_ROLE},
    {"close with a 1-byte payload", HR_BOTH, HC_DEFAULT, 0, {FR(0x88, "\x03"), FEND}, 0, P1002, ">close:1002",
     WS_CLOSED},
    {"close reason not UTF-8", HR_BOTH, HC_DEFAULT, 0, {FCLOSE(1000, "\xc0\xaf"), FEND}, 0,
     "err:UTF8 close:1007", ">close:1007", WS_CLOSED},
    {"ping, then close", HR_BOTH, HC_DEFAULT, 0, {FR(0x89, "p"), FCLOSE(1000, ""), FEND}, 0,
     "ping\"p\" close:1000", ">pong\"p\" >close:1000", HE_ROLE},
    {"message, then close", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "m"), FCLOSE(1000, ""), FEND}, 0,
     "text\"m\" close:1000", ">close:1000", HE_ROLE},
    {"close in the middle of a message", HR_BOTH, HC_DEFAULT, 0, {FR(0x02, "m"), FCLOSE(1001, ""), FR(0x80, "n"), FEND},
     0, "close:1001", ">close:1001", HE_ROLE},
    {"two closes", HR_BOTH, HC_DEFAULT, 0, {FCLOSE(1000, ""), FCLOSE(1001, ""), FEND}, 0, "close:1000",
     ">close:1000", HE_ROLE},
    {"close, then an invalid frame", HR_BOTH, HC_DEFAULT, 0, {FCLOSE(1000, ""), FR(0xC3, "x"), FEND}, 0, "close:1000",
     ">close:1000", HE_ROLE},
    {"close, then EOF", HR_BOTH, HC_DEFAULT, 0, {FCLOSE(1000, "bye"), FEND}, 1, "close:1000", ">close:1000",
     WS_CLOSED},
    {"EOF without a close", HR_BOTH, HC_DEFAULT, 0, {FEND}, 1, "close:1006", "", WS_CLOSED},
    {"EOF after a ping", HR_BOTH, HC_DEFAULT, 0, {FR(0x89, "p"), FEND}, 1, "ping\"p\" close:1006", ">pong\"p\"",
     WS_CLOSED},
    BADCODE(0), BADCODE(1), BADCODE(999), BADCODE(1004), BADCODE(1005), BADCODE(1006), BADCODE(1015),
    BADCODE(1016), BADCODE(1100), BADCODE(2000), BADCODE(2999), BADCODE(5000), BADCODE(65535),
    GOODCODE(1000), GOODCODE(1001), GOODCODE(1002), GOODCODE(1003), GOODCODE(1007), GOODCODE(1008),
    GOODCODE(1009), GOODCODE(1010), GOODCODE(1011), GOODCODE(1012), GOODCODE(1013), GOODCODE(1014),
    GOODCODE(3000), GOODCODE(3999), GOODCODE(4000), GOODCODE(4999),
};

/* A scripted session opened in a role, ready for more input. */
static void open_scripted(hsess *s, int server, int delivery, uint64_t seed, int fixed) {
    hbuf in = {0};
    hs_init(s, server, delivery, seed);
    if (fixed) hs_fixed(s, 2048, 16384);
    if (server) CHECK(hs_start_server(s) == 0);
    else CHECK(hs_start_client(s, &h_client_opts) == 0);
    hs_handshake_bytes(s, &in);
    hs_deliver(s, in.p, in.len);
    CHECK(ws_state(&s->c) == WS_OPEN);
    hb_free(&in);
}

static void send_frames(hsess *s, const hfs *f) {
    hbuf in = {0};
    h_build_frames(s, f, &in);
    hs_deliver(s, in.p, in.len);
    hb_free(&in);
}

/* The peer's close reason reaches on_close and ws_reason intact, also
 * when the client keeps reading junk while it waits for the EOF. */
static void peer_reason(int server, int delivery, int fixed) {
    static const char reason[] = "going away now, \xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5, bye";
    hsess s;
    hbuf in = {0};
    int i;
    hfs f[2] = {FCLOSE(1001, reason), FEND};
    h_set_ctx("peer's close reason [%s, %s, %s]", server ? "server" : "client", fixed ? "fixed" : "alloc",
              h_dname[delivery]);
    hs_init(&s, server, delivery, 20);
    if (fixed) hs_fixed(&s, 1024, 1024);
    if (server) CHECK(hs_start_server(&s) == 0);
    else CHECK(hs_start_client(&s, &h_client_opts) == 0);
    hs_handshake_bytes(&s, &in);
    hs_deliver(&s, in.p, in.len);
    send_frames(&s, f);
    CHECK_STR(ws_reason(&s.c), reason);
    if (!server) {
        CHECK_INT(ws_state(&s.c), WS_CLOSING);
        CHECK_INT(s.closes, 0);
        /* Junk after the close: ignored, the reason stays intact. */
        for (i = 0; i < 20; i++) {
            hb_clear(&in);
            h_frame(&in, &s.rng, 0, 0x81, "junk after the close, with a long payload to fill the buffer up....",
                    68);
            hb_add(&in, "\xff\xff\xff\xff", 4);
            hs_deliver(&s, in.p, in.len);
        }
        CHECK_STR(ws_reason(&s.c), reason);
        hs_eof(&s);
    }
    CHECK_INT(ws_state(&s.c), WS_CLOSED);
    CHECK_INT(s.close_code, 1001);
    CHECK_STR(s.close_reason, reason);
    CHECK_STR(ws_reason(&s.c), reason);
    hs_invariants(&s);
    hb_free(&in);
    hs_free(&s);
}

/* ws_close from the application: the frame on the wire, then only that. */
static void app_close(int server, int delivery, int fixed) {
    hsess s;
    hout o;
    hfs later[4] = {FR(0x89, "p"), FR(0x81, "late message"), FR(0x8A, "q"), FEND};
    hfs reply[2] = {FCLOSE(1000, "ok"), FEND};
    h_set_ctx("ws_close from the application [%s, %s, %s]", server ? "server" : "client", fixed ? "fixed" : "alloc",
              h_dname[delivery]);
    open_scripted(&s, server, delivery, 21, fixed);
    CHECK_INT(ws_close(&s.c, 1000, "bye"), 0);
    hs_settle(&s);
    CHECK_INT(ws_state(&s.c), WS_CLOSING);
    h_parse_out(&s, &o);
    CHECK_STR(hb_cstr(&o.frames), ">close:1000");
    CHECK_STR(o.close_reason, "bye");
    h_out_free(&o);
    /* Nothing but that close goes out now. */
    CHECK_INT(ws_send_text(&s.c, "x"), WS_E_STATE);
    CHECK_INT(ws_send_binary(&s.c, "x", 1), WS_E_STATE);
    CHECK_INT(ws_send_frame(&s.c, WS_OP_TEXT, "x", 1, 0), WS_E_STATE);
    CHECK_INT(ws_ping(&s.c, "x", 1), WS_E_STATE);
    CHECK_INT(ws_close(&s.c, 1000, NULL), WS_E_STATE);
    send_frames(&s, later); /* no pong for the ping */
    h_parse_out(&s, &o);
    CHECK_STR(hb_cstr(&o.frames), ">close:1000");
    CHECK(!o.bad);
    h_out_free(&o);
    CHECK_INT(ws_state(&s.c), WS_CLOSING);
    CHECK_INT(s.closes, 0);
    /* The peer answers. */
    send_frames(&s, reply);
    if (server) {
        CHECK_INT(ws_state(&s.c), WS_CLOSED);
        CHECK_INT(ws_pump(&s.c), WS_E_CLOSED);
        CHECK_INT(ws_feed(&s.c, "x", 1), WS_E_CLOSED);
    } else {
        /* The client waits for the server to end the TCP stream. */
        CHECK_INT(ws_state(&s.c), WS_CLOSING);
        CHECK_INT(hs_pump(&s), 0);
        hs_eof(&s);
        CHECK_INT(ws_state(&s.c), WS_CLOSED);
        CHECK_INT(ws_pump(&s.c), WS_E_CLOSED);
    }
    h_parse_out(&s, &o);
    CHECK_STR(hb_cstr(&o.frames), ">close:1000");
    h_out_free(&o);
    CHECK_INT(s.close_code, 1000);
    CHECK_STR(s.close_reason, "ok");
    CHECK_INT(s.closes, 1);
    CHECK_INT(ws_close(&s.c, 1000, NULL), WS_E_STATE);
    CHECK_INT(ws_send_text(&s.c, "x"), WS_E_STATE);
    hs_invariants(&s);
    hs_free(&s);
}

/* ws_close arguments. */
static void close_args(void) {
    static const int bad[] = {1, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65536, -1};
    char long_reason[125];
    size_t i;
    hsess s;
    hout o;
    memset(long_reason, 'r', sizeof long_reason);
    long_reason[124] = 0;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h_set_ctx("ws_close(%d) is refused", bad[i]);
        open_scripted(&s, 1, D_WHOLE, 30, 0);
        CHECK_INT(ws_close(&s.c, bad[i], NULL), WS_E_INVALID);
        CHECK_INT(ws_state(&s.c), WS_OPEN);
        h_parse_out(&s, &o);
        CHECK_STR(hb_cstr(&o.frames), "");
        h_out_free(&o);
        hs_free(&s);
    }
    h_set_ctx("ws_close with a 124-byte reason");
    open_scripted(&s, 0, D_WHOLE, 31, 0);
    CHECK_INT(ws_close(&s.c, 1000, long_reason), WS_E_INVALID);
    long_reason[123] = 0;
    CHECK_INT(ws_close(&s.c, 1000, long_reason), 0);
    hs_settle(&s);
    h_parse_out(&s, &o);
    CHECK_STR(hb_cstr(&o.frames), ">close:1000");
    CHECK_STR(o.close_reason, long_reason);
    h_out_free(&o);
    hs_free(&s);

    h_set_ctx("ws_close with a reason that is not UTF-8");
    open_scripted(&s, 1, D_WHOLE, 32, 0);
    CHECK_INT(ws_close(&s.c, 1000, "\xff"), WS_E_INVALID);
    CHECK_INT(ws_state(&s.c), WS_OPEN);
    hs_free(&s);

    h_set_ctx("ws_close(0, reason) is refused; ws_close(0) sends an empty close");
    open_scripted(&s, 1, D_WHOLE, 33, 0);
    CHECK_INT(ws_close(&s.c, 0, "r"), WS_E_INVALID);
    CHECK_INT(ws_close(&s.c, 0, NULL), 0);
    hs_settle(&s);
    h_parse_out(&s, &o);
    CHECK_STR(hb_cstr(&o.frames), ">close");
    h_out_free(&o);
    {
        hfs reply[2] = {FR(0x88, ""), FEND};
        send_frames(&s, reply);
    }
    CHECK_INT(ws_state(&s.c), WS_CLOSED);
    CHECK_INT(s.close_code, 1005);
    hs_free(&s);

    h_set_ctx("ws_close with a 3000-4999 code");
    open_scripted(&s, 0, D_WHOLE, 34, 0);
    CHECK_INT(ws_close(&s.c, 4321, "app"), 0);
    hs_settle(&s);
    h_parse_out(&s, &o);
    CHECK_STR(hb_cstr(&o.frames), ">close:4321");
    CHECK_STR(o.close_reason, "app");
    h_out_free(&o);
    hs_free(&s);
}

/* Timeouts of the closing handshake (fake clock). */
static void close_timeouts(int server) {
    hsess s;
    hfs close1000[2] = {FCLOSE(1000, "bye"), FEND};
    /* The client got the server's close and answered: it waits for the
     * server to end the stream, then gives up after close_timeout_ms. */
    if (!server) {
        h_set_ctx("client waits for the server's EOF, then times out");
        open_scripted(&s, 0, D_WHOLE, 40, 0);
        s.cfg.close_timeout_ms = 300;
        send_frames(&s, close1000);
        CHECK_INT(ws_state(&s.c), WS_CLOSING);
        CHECK(ws_next_timeout(&s.c) > 0 && ws_next_timeout(&s.c) <= 300);
        s.io.now += 299;
        CHECK_INT(hs_pump(&s), 0);
        CHECK_INT(ws_state(&s.c), WS_CLOSING);
        s.io.now += 1;
        CHECK_INT(hs_pump(&s), WS_E_CLOSED);
        CHECK_INT(ws_state(&s.c), WS_CLOSED);
        CHECK_INT(s.close_code, 1000); /* the server's close frame did arrive */
        CHECK_STR(s.close_reason, "bye");
        hs_invariants(&s);
        hs_free(&s);
    }
    /* We sent a close, the peer never answers and never hangs up: gone
     * after close_timeout_ms (default 5000), and since no close frame came
     * back the close code is 1006 (RFC 6455 section 7.1.5). */
    {
        int custom;
        for (custom = 0; custom < 2; custom++) {
            uint64_t t = custom ? 700 : 5000;
            h_set_ctx("%s: our close is never answered (%s)", server ? "server" : "client",
                      custom ? "close_timeout_ms 700" : "default timeout");
            open_scripted(&s, server, D_WHOLE, 41, 0);
            if (custom) s.cfg.close_timeout_ms = 700;
            CHECK_INT(ws_close(&s.c, 1000, "bye"), 0);
            hs_settle(&s);
            CHECK_INT(ws_next_timeout(&s.c), (long)t);
            s.io.now += t - 1;
            CHECK_INT(hs_pump(&s), 0);
            CHECK_INT(ws_state(&s.c), WS_CLOSING);
            s.io.now += 1;
            CHECK_INT(hs_pump(&s), WS_E_CLOSED);
            CHECK_INT(ws_state(&s.c), WS_CLOSED);
            CHECK_INT(s.closes, 1);
            CHECKF(s.close_code == 1006, "on_close code %d after an unanswered close, want 1006", s.close_code);
            hs_invariants(&s);
            hs_free(&s);
        }
    }
    /* We sent a close and the stream ended without an answer: 1006. */
    {
        h_set_ctx("%s: our close, then EOF without a close frame", server ? "server" : "client");
        open_scripted(&s, server, D_WHOLE, 42, 0);
        CHECK_INT(ws_close(&s.c, 1000, "bye"), 0);
        hs_settle(&s);
        hs_eof(&s);
        CHECK_INT(ws_state(&s.c), WS_CLOSED);
        CHECK_INT(s.close_code, 1006);
        hs_invariants(&s);
        hs_free(&s);
    }
    /* Without a clock: no timeout, the close waits. */
    {
        h_set_ctx("%s: no clock, the close waits", server ? "server" : "client");
        hs_init(&s, server, D_WHOLE, 43);
        s.no_clock = 1;
        if (server) CHECK(hs_start_server(&s) == 0);
        else CHECK(hs_start_client(&s, &h_client_opts) == 0);
        {
            hbuf in = {0};
            hs_handshake_bytes(&s, &in);
            hs_deliver(&s, in.p, in.len);
            hb_free(&in);
        }
        CHECK_INT(ws_close(&s.c, 1000, ""), 0);
        hs_settle(&s);
        CHECK_INT(ws_next_timeout(&s.c), -1);
        CHECK_INT(ws_state(&s.c), WS_CLOSING);
        hs_free(&s);
    }
}

/* A server whose queue is full when the close exchange ends still sends
 * everything before it closes. */
static void close_after_backlog(int delivery) {
    hsess s;
    hout o;
    hfs reply[2] = {FCLOSE(1000, ""), FEND};
    unsigned char big[3000];
    int i;
    h_set_ctx("server closes only after flushing its queue [%s]", h_dname[delivery]);
    memset(big, 'b', sizeof big);
    open_scripted(&s, 1, delivery, 50, 0);
    s.io.send_blocked = 1;
    for (i = 0; i < 3; i++) CHECK_INT(ws_send_binary(&s.c, big, sizeof big), 0);
    CHECK_INT(ws_close(&s.c, 1000, "done"), 0);
    CHECK(ws_buffered_amount(&s.c) >= 3 * sizeof big);
    send_frames(&s, reply);
    CHECK_INT(ws_state(&s.c), WS_CLOSING); /* not before the queue is out */
    s.io.send_blocked = 0;
    hs_settle(&s);
    CHECK_INT(ws_state(&s.c), WS_CLOSED);
    CHECK_INT(ws_buffered_amount(&s.c), 0);
    h_parse_out(&s, &o);
    CHECK_STR(hb_cstr(&o.frames), ">bin[3000:9688eec5] >bin[3000:9688eec5] >bin[3000:9688eec5] >close:1000");
    CHECK(!o.bad && !o.trailing);
    h_out_free(&o);
    hs_invariants(&s);
    hs_free(&s);
}

/* Two engines: either side closes, or both at once. */
static void pair_close(int who, int delivery, uint64_t seed) {
    hsess srv, cli;
    hsess *closer;
    static const char *const names[] = {"server closes", "client closes", "both close at once"};
    h_set_ctx("pair: %s [%s, seed %lu]", names[who], h_dname[delivery], (unsigned long)seed);
    hp_init(&srv, &cli, delivery, seed);
    hp_start(&srv, &cli);
    closer = who == 0 ? &srv : &cli;
    CHECK_INT(ws_send_text(&srv.c, "from server"), 0);
    CHECK_INT(ws_send_text(&cli.c, "from client"), 0);
    if (who == 2) {
        CHECK_INT(ws_close(&srv.c, 4001, "s"), 0);
        CHECK_INT(ws_close(&cli.c, 4002, "c"), 0);
    } else {
        CHECK_INT(ws_close(&closer->c, 4000 + who, "bye"), 0);
    }
    hp_settle(&srv, &cli);
    CHECK_INT(ws_state(&srv.c), WS_CLOSED);
    CHECK_INT(ws_state(&cli.c), WS_CLOSED);
    if (who == 2) {
        /* Each saw the other's close frame. */
        CHECK_INT(srv.close_code, 4002);
        CHECK_INT(cli.close_code, 4001);
        CHECK_STR(srv.close_reason, "c");
        CHECK_STR(cli.close_reason, "s");
    } else {
        CHECK_INT(srv.close_code, 4000 + who);
        CHECK_INT(cli.close_code, 4000 + who);
    }
    {
        char want_s[64], want_c[64];
        snprintf(want_s, sizeof want_s, "open\"\" text\"from client\" close:%d", srv.close_code);
        snprintf(want_c, sizeof want_c, "open\"\" text\"from server\" close:%d", cli.close_code);
        CHECK_STR(hb_cstr(&srv.log), want_s);
        CHECK_STR(hb_cstr(&cli.log), want_c);
    }
    /* Each side sent exactly one close frame. */
    {
        hout o;
        h_parse_out(&srv, &o);
        CHECK_INT(o.ncloses, 1);
        CHECK(!o.bad);
        h_out_free(&o);
        h_parse_out(&cli, &o);
        CHECK_INT(o.ncloses, 1);
        CHECK(!o.bad);
        h_out_free(&o);
    }
    hs_invariants(&srv);
    hs_invariants(&cli);
    hs_free(&srv), hs_free(&cli);
}

int main(void) {
    int server, d, fixed, who;
    unsigned k;
    h_run_table(rows, sizeof rows / sizeof rows[0], 4, HR_BOTH);
    for (server = 0; server < 2; server++)
        for (d = 0; d < D_COUNT; d++)
            for (fixed = 0; fixed < 2; fixed++) {
                peer_reason(server, d, fixed);
                app_close(server, d, fixed);
            }
    close_args();
    for (server = 0; server < 2; server++) close_timeouts(server);
    for (d = 0; d < D_COUNT; d++) close_after_backlog(d);
    for (who = 0; who < 3; who++)
        for (d = 0; d <= D_RANDOM; d++)
            for (k = 0; k < (d == D_RANDOM ? 8u : 1u); k++) pair_close(who, d, 100u * (unsigned)who + k);
    return h_report();
}
