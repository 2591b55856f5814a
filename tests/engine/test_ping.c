/* Ping and pong (RFC 6455 sections 5.5.2, 5.5.3) and keepalive: a ping is
 * answered with a pong carrying the same payload (unless no_auto_pong), an
 * unsolicited pong is reported and otherwise ignored, ping_interval_ms sends
 * pings on a (fake) clock and a missing pong ends the connection with
 * WS_E_TIMEOUT. */
#include "harness.h"

static const hrow rows[] = {
    {"ping", HR_BOTH, HC_DEFAULT, 0, {FR(0x89, "are you there"), FEND}, 0, "ping\"are you there\"",
     ">pong\"are you there\"", WS_OPEN},
    {"empty ping", HR_BOTH, HC_DEFAULT, 0, {FR(0x89, ""), FEND}, 0, "ping\"\"", ">pong\"\"", WS_OPEN},
    {"125-byte ping", HR_BOTH, HC_DEFAULT, 0, {FBIG(0x89, 125), FEND}, 0, "ping[125:az]", ">pong[125:az]", WS_OPEN},
    {"ping with every byte value", HR_BOTH, HC_DEFAULT, 0, {FR(0x89, "\x00\x01\x7f\x80\xfe\xff"), FEND}, 0,
     "ping\"\\x00\\x01\\x7f\\x80\\xfe\\xff\"", ">pong\"\\x00\\x01\\x7f\\x80\\xfe\\xff\"", WS_OPEN},
    {"twenty pings in one read", HR_BOTH, HC_DEFAULT, 0,
     {FR(0x89, "1"), FR(0x89, "2"), FR(0x89, "3"), FR(0x89, "4"), FR(0x89, "5"), FR(0x89, "6"), FR(0x89, "7"),
      FR(0x89, "8"), FR(0x89, "9"), FR(0x89, "10"), FR(0x89, "11"), FR(0x89, "12"), FR(0x89, "13"), FEND},
     0, "ping\"1\" ping\"2\" ping\"3\" ping\"4\" ping\"5\" ping\"6\" ping\"7\" ping\"8\" ping\"9\" ping\"10\" "
        "ping\"11\" ping\"12\" ping\"13\"",
     ">pong\"1\" >pong\"2\" >pong\"3\" >pong\"4\" >pong\"5\" >pong\"6\" >pong\"7\" >pong\"8\" >pong\"9\" "
     ">pong\"10\" >pong\"11\" >pong\"12\" >pong\"13\"",
     WS_OPEN},
    {"pings between messages", HR_BOTH, HC_DEFAULT, 0,
     {FR(0x81, "a"), FR(0x89, "x"), FR(0x82, "b"), FR(0x89, "y"), FEND}, 0,
     "text\"a\" ping\"x\" bin\"b\" ping\"y\"", ">pong\"x\" >pong\"y\"", WS_OPEN},
    {"ping inside a fragmented message", HR_BOTH, HC_DEFAULT, 0,
     {FR(0x01, "a"), FR(0x89, "x"), FR(0x00, "b"), FR(0x89, "y"), FR(0x80, "c"), FEND}, 0,
     "ping\"x\" ping\"y\" text\"abc\"", ">pong\"x\" >pong\"y\"", WS_OPEN},
    {"no_auto_pong: reported, not answered", HR_BOTH, HC_NOPONG, 0, {FR(0x89, "x"), FR(0x89, ""), FEND}, 0,
     "ping\"x\" ping\"\"", "", WS_OPEN},
    {"unsolicited pong", HR_BOTH, HC_DEFAULT, 0, {FR(0x8A, "heartbeat"), FEND}, 0, "pong\"heartbeat\"", "", WS_OPEN},
    {"empty unsolicited pong", HR_BOTH, HC_DEFAULT, 0, {FR(0x8A, ""), FEND}, 0, "pong\"\"", "", WS_OPEN},
    {"pong inside a fragmented message", HR_BOTH, HC_DEFAULT, 0, {FR(0x02, "a"), FR(0x8A, "p"), FR(0x80, "b"), FEND},
     0, "pong\"p\" bin\"ab\"", "", WS_OPEN},
    {"pong then a message", HR_BOTH, HC_DEFAULT, 0, {FR(0x8A, "p"), FR(0x81, "t"), FEND}, 0, "pong\"p\" text\"t\"", "",
     WS_OPEN},
};

static void open_scripted(hsess *s, int server, int delivery, uint64_t seed) {
    hbuf in = {0};
    if (server) CHECK(hs_start_server(s) == 0);
    else CHECK(hs_start_client(s, &h_client_opts) == 0);
    hs_handshake_bytes(s, &in);
    hs_deliver(s, in.p, in.len);
    CHECK(ws_state(&s->c) == WS_OPEN);
    hb_free(&in);
    (void)delivery, (void)seed;
}

static void send_frame(hsess *s, unsigned b0, const char *p) {
    hbuf in = {0};
    h_frame(&in, &s->rng, s->server, b0, p, strlen(p));
    hs_deliver(s, in.p, in.len);
    hb_free(&in);
}

static const char *frames_out(hsess *s, hout *o) {
    h_out_free(o);
    h_parse_out(s, o);
    CHECKF(!o->bad, "bad output: %s", o->bad);
    return hb_cstr(&o->frames);
}

/* Pings on the clock; answered pongs keep the connection. */
static void keepalive(int server, int delivery) {
    hsess s;
    hout o;
    int i;
    memset(&o, 0, sizeof o);
    h_set_ctx("keepalive, pongs answered [%s, %s]", server ? "server" : "client", h_dname[delivery]);
    hs_init(&s, server, delivery, 60);
    s.cfg.ping_interval_ms = 1000;
    open_scripted(&s, server, delivery, 60);
    CHECK_INT(ws_next_timeout(&s.c), 1000);
    s.io.now += 999;
    hs_settle(&s);
    CHECK_STR(frames_out(&s, &o), "");
    CHECK_INT(ws_next_timeout(&s.c), 1);
    s.io.now += 1;
    hs_settle(&s);
    CHECK_STR(frames_out(&s, &o), ">ping\"\"");
    CHECK_INT(ws_next_timeout(&s.c), 1000); /* the pong is due then */
    for (i = 0; i < 5; i++) {
        s.io.now += 400;
        hs_settle(&s);
        send_frame(&s, 0x8A, "");
        CHECK_INT(ws_state(&s.c), WS_OPEN);
        /* The next ping goes out an interval after the pong. */
        CHECK_INT(ws_next_timeout(&s.c), 1000);
        s.io.now += 1000;
        hs_settle(&s);
    }
    CHECK_STR(frames_out(&s, &o), ">ping\"\" >ping\"\" >ping\"\" >ping\"\" >ping\"\" >ping\"\"");
    CHECK_STR(hb_cstr(&s.log), "open\"\" pong\"\" pong\"\" pong\"\" pong\"\" pong\"\"");
    CHECK_INT(s.errors, 0);
    /* Now no pong: gone once the pong is overdue. */
    s.io.now += 999;
    hs_settle(&s);
    CHECK_INT(ws_state(&s.c), WS_OPEN);
    s.io.now += 1;
    CHECK_INT(hs_pump(&s), WS_E_CLOSED);
    CHECK_INT(ws_state(&s.c), WS_CLOSED);
    CHECK_INT(s.last_err, WS_E_TIMEOUT);
    CHECKF(strstr(hb_cstr(&s.log), "err:TIMEOUT close:") != NULL, "log %s", hb_cstr(&s.log));
    CHECK(HAS_REASON(ws_reason(&s.c)));
    CHECK_INT(ws_next_timeout(&s.c), -1);
    hs_invariants(&s);
    h_out_free(&o);
    hs_free(&s);
}

/* pong_timeout_ms shorter than the interval. */
static void pong_timeout(int server) {
    hsess s;
    hout o;
    memset(&o, 0, sizeof o);
    h_set_ctx("pong_timeout_ms 200 [%s]", server ? "server" : "client");
    hs_init(&s, server, D_WHOLE, 61);
    s.cfg.ping_interval_ms = 1000;
    s.cfg.pong_timeout_ms = 200;
    open_scripted(&s, server, D_WHOLE, 61);
    s.io.now += 1000;
    hs_settle(&s);
    CHECK_STR(frames_out(&s, &o), ">ping\"\"");
    CHECK_INT(ws_next_timeout(&s.c), 200);
    s.io.now += 199;
    CHECK_INT(hs_pump(&s), 0);
    s.io.now += 1;
    CHECK_INT(hs_pump(&s), WS_E_CLOSED);
    CHECK_INT(s.last_err, WS_E_TIMEOUT);
    hs_invariants(&s);
    h_out_free(&o);
    hs_free(&s);
}

/* No keepalive pings once closing; none without a clock. */
static void keepalive_quiet(int server) {
    hsess s;
    hout o;
    memset(&o, 0, sizeof o);
    h_set_ctx("no keepalive ping after ws_close [%s]", server ? "server" : "client");
    hs_init(&s, server, D_WHOLE, 62);
    s.cfg.ping_interval_ms = 1000;
    s.cfg.close_timeout_ms = 60000;
    open_scripted(&s, server, D_WHOLE, 62);
    CHECK_INT(ws_close(&s.c, 1000, ""), 0);
    s.io.now += 5000;
    hs_settle(&s);
    CHECK_STR(frames_out(&s, &o), ">close:1000");
    CHECK_INT(ws_state(&s.c), WS_CLOSING);
    CHECK_INT(s.errors, 0);
    hs_free(&s);

    h_set_ctx("no keepalive without a clock [%s]", server ? "server" : "client");
    hs_init(&s, server, D_WHOLE, 63);
    s.cfg.ping_interval_ms = 1000;
    s.no_clock = 1;
    open_scripted(&s, server, D_WHOLE, 63);
    CHECK_INT(ws_next_timeout(&s.c), -1);
    s.io.now += 5000;
    hs_settle(&s);
    CHECK_STR(frames_out(&s, &o), "");
    CHECK_INT(ws_state(&s.c), WS_OPEN);
    h_out_free(&o);
    hs_free(&s);
}

/* no_auto_pong: the application answers itself from on_ping. */
static void manual_pong_cb(ws_conn *c, const void *p, size_t n) {
    hsess *s = (hsess *)c->user;
    char buf[130];
    size_t i;
    for (i = 0; i < n; i++) buf[i] = ((const char *)p)[n - 1 - i];
    s->echo_rc = ws_send_frame(c, WS_OP_PONG, buf, n, 1);
    hcb_ping(c, p, n);
}

static void manual_pong(int server, int delivery) {
    hsess s;
    hout o;
    memset(&o, 0, sizeof o);
    h_set_ctx("manual pong with no_auto_pong [%s, %s]", server ? "server" : "client", h_dname[delivery]);
    hs_init(&s, server, delivery, 64);
    s.cfg.no_auto_pong = 1;
    s.cfg.on_ping = manual_pong_cb;
    open_scripted(&s, server, delivery, 64);
    send_frame(&s, 0x89, "abc");
    CHECK_INT(s.echo_rc, 0);
    CHECK_STR(frames_out(&s, &o), ">pong\"cba\"");
    CHECK_STR(hb_cstr(&s.log), "open\"\" ping\"abc\"");
    h_out_free(&o);
    hs_free(&s);
}

/* Application pings: limits, and the answer arrives via on_pong. */
static void app_ping(void) {
    hsess srv, cli;
    char p125[126], p126[127];
    int d;
    memset(p125, 'x', sizeof p125), memset(p126, 'y', sizeof p126);
    for (d = 0; d <= D_RANDOM; d++) {
        h_set_ctx("ws_ping between two engines [%s]", h_dname[d]);
        hp_init(&srv, &cli, d, 65);
        hp_start(&srv, &cli);
        CHECK_INT(ws_ping(&cli.c, "c1", 2), 0);
        CHECK_INT(ws_ping(&srv.c, "s1", 2), 0);
        CHECK_INT(ws_ping(&cli.c, p125, 125), 0);
        CHECK_INT(ws_ping(&cli.c, p126, 126), WS_E_INVALID);
        CHECK_INT(ws_ping(&cli.c, NULL, 0), 0);
        CHECK_INT(ws_send_frame(&cli.c, WS_OP_PING, "x", 1, 0), WS_E_INVALID);
        hp_settle(&srv, &cli);
        CHECK_STR(hb_cstr(&srv.log), "open\"\" ping\"c1\" ping[125:b5ab3a37] ping\"\" pong\"s1\"");
        CHECK_STR(hb_cstr(&cli.log), "open\"\" ping\"s1\" pong\"c1\" pong[125:b5ab3a37] pong\"\"");
        hs_invariants(&srv), hs_invariants(&cli);
        hs_free(&srv), hs_free(&cli);
    }
}

/* Keepalive between two engines over a long (fake) time: the peer's
 * automatic pongs keep it open; without them it times out. */
static void pair_keepalive(int peer_pongs, int delivery) {
    hsess srv, cli;
    int i;
    h_set_ctx("pair keepalive, peer %s [%s]", peer_pongs ? "answers" : "does not answer", h_dname[delivery]);
    hp_init(&srv, &cli, delivery, 66);
    cli.cfg.ping_interval_ms = 500;
    if (!peer_pongs) srv.cfg.no_auto_pong = 1;
    hp_start(&srv, &cli);
    for (i = 0; i < 40 && ws_state(&cli.c) == WS_OPEN; i++) {
        srv.io.now += 100, cli.io.now += 100;
        hp_settle(&srv, &cli);
    }
    if (peer_pongs) {
        CHECK_INT(ws_state(&cli.c), WS_OPEN);
        CHECK_INT(ws_state(&srv.c), WS_OPEN);
        CHECK_INT(cli.errors, 0);
        CHECKF(strstr(hb_cstr(&srv.log), "ping\"\" ping\"\" ping\"\" ping\"\" ping\"\" ping\"\" ping\"\"") != NULL,
               "server saw: %s", hb_cstr(&srv.log));
    } else {
        CHECK_INT(ws_state(&cli.c), WS_CLOSED);
        CHECK_INT(cli.last_err, WS_E_TIMEOUT);
        CHECK_INT(i, 10); /* ping at 500 ms, overdue at 1000 ms */
    }
    hs_invariants(&srv), hs_invariants(&cli);
    hs_free(&srv), hs_free(&cli);
}

/* An automatic pong waits its turn behind queued data. */
static void pong_behind_backlog(int server) {
    hsess s;
    hout o;
    unsigned char big[2000];
    memset(&o, 0, sizeof o);
    memset(big, 'q', sizeof big);
    h_set_ctx("pong queued behind data [%s]", server ? "server" : "client");
    hs_init(&s, server, D_WHOLE, 67);
    open_scripted(&s, server, D_WHOLE, 67);
    s.io.send_blocked = 1;
    CHECK_INT(ws_send_binary(&s.c, big, sizeof big), 0);
    send_frame(&s, 0x89, "p");
    CHECK_INT(ws_send_text(&s.c, "after"), 0);
    s.io.send_blocked = 0;
    hs_settle(&s);
    CHECK_STR(frames_out(&s, &o), ">bin[2000:fd477ab5] >pong\"p\" >text\"after\"");
    CHECK(!o.trailing);
    h_out_free(&o);
    hs_free(&s);
}

int main(void) {
    int server, d;
    h_run_table(rows, sizeof rows / sizeof rows[0], 6, HR_BOTH);
    for (server = 0; server < 2; server++) {
        for (d = 0; d < D_COUNT; d++) {
            keepalive(server, d);
            manual_pong(server, d);
        }
        pong_timeout(server);
        keepalive_quiet(server);
        pong_behind_backlog(server);
    }
    app_ping();
    for (d = 0; d <= D_RANDOM; d++) {
        pair_keepalive(1, d);
        pair_keepalive(0, d);
    }
    return h_report();
}
