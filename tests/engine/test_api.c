/* The engine's API as an application sees it: readyState, bufferedAmount,
 * backpressure with a fixed send buffer (WS_E_FULL, never half a frame),
 * sending from callbacks, the caller's buffer left alone, streaming send
 * interleaved with pings, argument and state errors, ws_start_open, the
 * allocator mode giving buffers back when idle, transport failures. */
#include "harness.h"

static const char *frames_of(hsess *s, hout *o) {
    h_out_free(o);
    h_parse_out(s, o);
    CHECKF(!o->bad, "bad output: %s", o->bad);
    return hb_cstr(&o->frames);
}

static void open_scripted(hsess *s, int server) {
    hbuf in = {0};
    if (server) CHECK(hs_start_server(s) == 0);
    else CHECK(hs_start_client(s, &h_client_opts) == 0);
    hs_handshake_bytes(s, &in);
    hs_deliver(s, in.p, in.len);
    CHECK(ws_state(&s->c) == WS_OPEN);
    hb_free(&in);
}

/* readyState through a whole life, as seen by the application. */
static void ready_state(int closer_is_server, int delivery) {
    hsess srv, cli;
    h_set_ctx("readyState [%s closes, %s]", closer_is_server ? "server" : "client", h_dname[delivery]);
    hp_init(&srv, &cli, delivery, 70);
    hs_connect(&srv), hs_connect(&cli);
    CHECK_INT(ws_state(&srv.c), WS_CONNECTING); /* after ws_conn_init */
    CHECK_INT(ws_send_text(&srv.c, "x"), WS_E_STATE);
    CHECK_INT(ws_server_start(&srv.c), 0);
    CHECK_INT(ws_state(&srv.c), WS_CONNECTING);
    CHECK_INT(ws_client_start(&cli.c, &h_client_opts), 0);
    CHECK_INT(ws_state(&cli.c), WS_CONNECTING);
    CHECK_INT(ws_send_text(&cli.c, "x"), WS_E_STATE);
    CHECK_INT(ws_ping(&cli.c, NULL, 0), WS_E_STATE);
    hp_settle(&srv, &cli);
    CHECK_INT(ws_state(&srv.c), WS_OPEN);
    CHECK_INT(ws_state(&cli.c), WS_OPEN);
    CHECK_INT(ws_close(closer_is_server ? &srv.c : &cli.c, 1000, ""), 0);
    CHECK_INT(ws_state(closer_is_server ? &srv.c : &cli.c), WS_CLOSING);
    hp_settle(&srv, &cli);
    CHECK_INT(ws_state(&srv.c), WS_CLOSED);
    CHECK_INT(ws_state(&cli.c), WS_CLOSED);
    CHECK_INT(srv.close_code, 1000);
    CHECK_INT(cli.close_code, 1000);
    hs_invariants(&srv), hs_invariants(&cli);
    hs_free(&srv), hs_free(&cli);
}

/* bufferedAmount follows what the transport has not taken. */
static void buffered_amount(int server) {
    hsess s;
    hout o;
    memset(&o, 0, sizeof o);
    h_set_ctx("ws_buffered_amount [%s]", server ? "server" : "client");
    hs_init(&s, server, D_WHOLE, 71);
    open_scripted(&s, server);
    CHECK_INT(ws_buffered_amount(&s.c), 0);
    CHECK_INT(ws_wants_write(&s.c), 0);
    s.io.send_blocked = 1;
    CHECK_INT(ws_send_text(&s.c, "hello"), 0);
    CHECK_INT(ws_buffered_amount(&s.c), server ? 7 : 11);
    CHECK(ws_wants_write(&s.c));
    CHECK_INT(ws_send_binary(&s.c, "abc", 3), 0);
    CHECK_INT(ws_buffered_amount(&s.c), server ? 12 : 20);
    CHECK_INT(ws_flush(&s.c), WS_E_AGAIN);
    s.io.send_blocked = 0;
    s.io.use_budget = 1, s.io.send_budget = 5; /* takes 5 bytes, then blocks */
    s.io.send_limit = 2;                        /* in writes of 2 */
    CHECK_INT(ws_flush(&s.c), WS_E_AGAIN);
    CHECK_INT(ws_buffered_amount(&s.c), server ? 7 : 15);
    s.io.send_budget = 3;
    CHECK_INT(hs_pump(&s), 0);
    CHECK_INT(ws_buffered_amount(&s.c), server ? 4 : 12);
    s.io.use_budget = 0, s.io.send_limit = 0;
    CHECK_INT(ws_flush(&s.c), 0);
    CHECK_INT(ws_buffered_amount(&s.c), 0);
    CHECK_INT(ws_wants_write(&s.c), 0);
    CHECK_STR(frames_of(&s, &o), ">text\"hello\" >bin\"abc\"");
    /* Bytes still queued when the connection ends are never written: a
     * CLOSED connection wants no writability. */
    s.io.send_blocked = 1;
    CHECK_INT(ws_send_text(&s.c, "left behind"), 0);
    CHECK(ws_wants_write(&s.c));
    hs_eof(&s);
    CHECK_INT(ws_state(&s.c), WS_CLOSED);
    CHECK(ws_buffered_amount(&s.c) > 0);
    CHECK_INT(ws_wants_write(&s.c), 0);
    h_out_free(&o);
    hs_free(&s);
}

/* A server's frames sent inside a callback wait for the end of the read
 * (several echoes go out in one write); bufferedAmount counts them there
 * too, not only once they are queued. */
static long amount_in_callback = -1;
static void send_and_measure(ws_conn *c, int op, const void *p, size_t n) {
    CHECK_INT(ws_send(c, op, p, n), 0);
    amount_in_callback = (long)ws_buffered_amount(c);
    hcb_message(c, op, p, n);
}

static void buffered_amount_in_callback(void) {
    hsess s;
    hout o;
    hbuf in = {0};
    memset(&o, 0, sizeof o);
    h_set_ctx("ws_buffered_amount inside on_message [server]");
    hs_init(&s, 1, D_WHOLE, 72);
    s.cfg.on_message = send_and_measure;
    open_scripted(&s, 1);
    s.io.send_blocked = 1;
    h_frame(&in, &s.rng, 1, 0x81, "hello", 5);
    hs_deliver(&s, in.p, in.len);
    CHECK_INT(amount_in_callback, 7);
    CHECK_INT(ws_buffered_amount(&s.c), 7); /* after the read: queued */
    s.io.send_blocked = 0;
    CHECK_INT(ws_flush(&s.c), 0);
    CHECK_INT(ws_buffered_amount(&s.c), 0);
    CHECK_STR(frames_of(&s, &o), ">text\"hello\"");
    hb_free(&in);
    h_out_free(&o);
    hs_free(&s);
}

/* A small fixed send buffer and a transport that would-blocks: WS_E_FULL,
 * nothing half-queued; the peer gets exactly the accepted frames. */
typedef struct sent_log {
    hbuf lens;    /* one size_t per accepted message */
    hbuf recvd;   /* one size_t per received message */
    uint64_t next_id, recv_id;
    unsigned long bad;
} sent_log;

static void on_counted(hsess *s, int op, const unsigned char *p, size_t n) {
    sent_log *l = (sent_log *)s->user;
    size_t i, want = 0;
    if (l->recv_id * sizeof(size_t) < l->lens.len) memcpy(&want, l->lens.p + l->recv_id * sizeof(size_t), sizeof want);
    else l->bad++;
    if (n != want || op != WS_OP_BINARY) l->bad++;
    for (i = 0; i < n; i++)
        if (p[i] != h_pattern(l->recv_id, i)) {
            l->bad++;
            break;
        }
    l->recv_id++;
}

static void backpressure(int client_sends, int alloc, uint64_t seed) {
    hsess srv, cli;
    hsess *tx, *rx;
    sent_log l;
    unsigned char buf[400];
    int round, full = 0, ok = 0;
    memset(&l, 0, sizeof l);
    h_set_ctx("backpressure [%s sends, %s, seed %lu]", client_sends ? "client" : "server",
              alloc ? "max_send_buffer 300" : "fixed 256/512-byte send buffer", (unsigned long)seed);
    hp_init(&srv, &cli, D_RANDOM, seed);
    tx = client_sends ? &cli : &srv;
    rx = client_sends ? &srv : &cli;
    if (alloc) tx->cfg.max_send_buffer = 300;
    else hs_fixed(tx, 0, client_sends ? 512 : 256); /* a client request needs more than 256 */
    rx->on_msg = on_counted;
    rx->user = &l;
    hp_start(&srv, &cli);
    for (round = 0; round < 400; round++) {
        size_t n = hr_below(&tx->rng, 260), i, before = ws_buffered_amount(&tx->c);
        int r;
        for (i = 0; i < n; i++) buf[i] = h_pattern(l.next_id, i);
        tx->io.send_blocked = hr_below(&tx->rng, 3) != 0;
        r = ws_send_binary(&tx->c, buf, n);
        if (r == 0) {
            hb_add(&l.lens, &n, sizeof n);
            l.next_id++;
            ok++;
        } else {
            /* TOO_BIG exactly when header + payload exceed the whole buffer */
            size_t bound = alloc ? 300 : client_sends ? 512 : 256;
            size_t hl = (n < 126 ? 2u : 4u) + (client_sends ? 4u : 0u);
            CHECKF(r == (n + hl > bound ? WS_E_TOO_BIG : WS_E_FULL), "ws_send_binary(%lu) gave %s",
                   (unsigned long)n, h_errname(r));
            CHECK_INT(ws_buffered_amount(&tx->c), before); /* nothing queued */
            full++;
        }
        if (hr_below(&tx->rng, 4) == 0) CHECK(ws_ping(&tx->c, "k", 1) == 0 || ws_buffered_amount(&tx->c) > 200);
        if (hr_below(&tx->rng, 3) == 0) {
            tx->io.send_blocked = 0;
            hp_settle(&srv, &cli);
        }
        (void)hs_pump(rx);
    }
    tx->io.send_blocked = 0;
    hp_settle(&srv, &cli);
    CHECK_INT(ws_buffered_amount(&tx->c), 0);
    CHECK_INT(l.recv_id, l.next_id);
    CHECK_INT(l.bad, 0);
    CHECKF(full > 10 && ok > 50, "only %d full and %d accepted: the test did not push hard enough", full, ok);
    CHECK_INT(ws_state(&srv.c), WS_OPEN);
    CHECK_INT(ws_state(&cli.c), WS_OPEN);
    CHECK_INT(srv.errors + cli.errors, 0);
    hs_invariants(&srv), hs_invariants(&cli);
    hb_free(&l.lens), hb_free(&l.recvd);
    hs_free(&srv), hs_free(&cli);
}

/* Exactly at the edge of a fixed send buffer. */
static void full_edges(int server) {
    hsess s;
    static unsigned char big[600];
    size_t hl = server ? 4 : 8; /* 16-bit length form (+ mask key) */
    size_t cap = server ? 256 : 512;
    h_set_ctx("WS_E_FULL at the edge of a %lu-byte send buffer [%s]", (unsigned long)cap, server ? "server" : "client");
    hs_init(&s, server, D_WHOLE, 72);
    hs_fixed(&s, 0, cap);
    open_scripted(&s, server);
    s.io.send_blocked = 1;
    CHECK_INT(ws_send_binary(&s.c, big, cap - hl + 1), WS_E_TOO_BIG); /* can never fit */
    CHECK_INT(ws_buffered_amount(&s.c), 0);
    CHECK_INT(ws_send_binary(&s.c, big, cap - hl), 0);
    CHECK_INT(ws_buffered_amount(&s.c), cap);
    CHECK_INT(ws_send_binary(&s.c, big, 0), WS_E_FULL);
    CHECK_INT(ws_ping(&s.c, NULL, 0), WS_E_FULL);
    CHECK_INT(ws_close(&s.c, 1000, ""), WS_E_FULL);
    CHECK_INT(ws_state(&s.c), WS_OPEN);
    s.io.send_blocked = 0;
    CHECK_INT(ws_flush(&s.c), 0);
    CHECK_INT(ws_send_binary(&s.c, big, 0), 0);
    CHECK_INT(ws_close(&s.c, 1000, ""), 0);
    hs_free(&s);
}

/* Sending from inside callbacks, between two engines. */
static void echo_from_callbacks(int delivery, uint64_t seed) {
    hsess srv, cli;
    int i;
    char msg[64];
    hbuf want = {0};
    h_set_ctx("echo server, client sends from on_open [%s, seed %lu]", h_dname[delivery], (unsigned long)seed);
    hp_init(&srv, &cli, delivery, seed);
    srv.echo = 1;
    cli.open_send = "first, from on_open";
    hp_start(&srv, &cli);
    hb_str(&want, "open\"\" text\"first, from on_open\"");
    for (i = 0; i < 50; i++) {
        snprintf(msg, sizeof msg, "message %d", i);
        CHECK_INT(ws_send_text(&cli.c, msg), 0);
        hb_printf(&want, " text\"%s\"", msg);
        if (i % 7 == 0) hp_settle(&srv, &cli);
    }
    hp_settle(&srv, &cli);
    CHECK_STR(hb_cstr(&cli.log), hb_cstr(&want));
    CHECK_INT(srv.echo_rc, 0);
    /* The server closes from on_message. */
    srv.echo = 0, srv.close_in_message = 1;
    CHECK_INT(ws_send_text(&cli.c, "please close"), 0);
    hp_settle(&srv, &cli);
    CHECK_INT(ws_state(&srv.c), WS_CLOSED);
    CHECK_INT(ws_state(&cli.c), WS_CLOSED);
    CHECK_INT(cli.close_code, 1000);
    CHECK_STR(cli.close_reason, "done");
    hs_invariants(&srv), hs_invariants(&cli);
    hb_free(&want);
    hs_free(&srv), hs_free(&cli);
}

/* Calls from on_close and on_error are refused politely. */
static int close_cb_rc = 99, error_cb_rc = 99;
static void close_cb_sends(ws_conn *c, int code, const char *reason) {
    close_cb_rc = ws_send_text(c, "too late");
    hcb_close(c, code, reason);
}
static void error_cb_sends(ws_conn *c, int err, const char *reason) {
    error_cb_rc = ws_send_text(c, "too late");
    hcb_error(c, err, reason);
}

static void callbacks_after_the_end(int server) {
    hsess s;
    hout o;
    hbuf in = {0};
    memset(&o, 0, sizeof o);
    h_set_ctx("sending from on_error and on_close [%s]", server ? "server" : "client");
    hs_init(&s, server, D_WHOLE, 73);
    s.cfg.on_close = close_cb_sends;
    s.cfg.on_error = error_cb_sends;
    open_scripted(&s, server);
    h_frame(&in, &s.rng, server, 0x83, "", 0); /* reserved opcode */
    hs_deliver(&s, in.p, in.len);
    if (!server) hs_eof(&s); /* the client waits for the server to hang up */
    CHECK_INT(ws_state(&s.c), WS_CLOSED);
    /* The engine has decided to fail the connection: on_error must not see
     * OPEN, and nothing but the close may follow. */
    CHECKF(s.err_state != WS_OPEN, "on_error saw readyState OPEN");
    CHECK_INT(error_cb_rc, WS_E_STATE);
    CHECK_INT(close_cb_rc, WS_E_STATE);
    CHECK_STR(frames_of(&s, &o), ">close:1002");
    hb_free(&in);
    h_out_free(&o);
    hs_free(&s);
}

/* The client masks into its own buffer: the caller's stays as it was. */
static const unsigned char rodata[] = "constant payload in read-only memory, masked by a client";

static void caller_buffer(int delivery) {
    hsess srv, cli;
    unsigned char *heap = (unsigned char *)malloc(70000), *copy = (unsigned char *)malloc(70000);
    size_t i;
    hbuf want = {0};
    h_set_ctx("caller's buffer is never modified [%s]", h_dname[delivery]);
    for (i = 0; i < 70000; i++) heap[i] = (unsigned char)('a' + i % 26);
    memcpy(copy, heap, 70000);
    hp_init(&srv, &cli, delivery, 74);
    hp_start(&srv, &cli);
    cli.io.send_blocked = 1; /* so the frames are queued, not written at once */
    CHECK_INT(ws_send_binary(&cli.c, rodata, sizeof rodata - 1), 0);
    CHECK_INT(ws_send_binary(&cli.c, heap, 70000), 0);
    CHECK_INT(ws_send_frame(&cli.c, WS_OP_BINARY, heap, 100, 0), 0);
    CHECK_INT(ws_send_frame(&cli.c, WS_OP_CONTINUATION, heap + 100, 100, 1), 0);
    CHECK_INT(ws_ping(&cli.c, heap, 125), 0);
    CHECK(memcmp(heap, copy, 70000) == 0);
    cli.io.send_blocked = 0;
    CHECK_INT(ws_send_text(&cli.c, (const char *)rodata), 0);
    CHECK_INT(ws_send_binary(&srv.c, heap, 70000), 0);
    hp_settle(&srv, &cli);
    CHECK(memcmp(heap, copy, 70000) == 0);
    hb_str(&want, "open\"\" bin[56:");
    CHECKF(!strncmp(hb_cstr(&srv.log), hb_cstr(&want), want.len), "server log %s", hb_cstr(&srv.log));
    CHECKF(strstr(hb_cstr(&srv.log), "bin[70000:az] bin[200:") && strstr(hb_cstr(&srv.log), "ping[125:az] text[56:"),
           "server log %s", hb_cstr(&srv.log));
    CHECK_STR(hb_cstr(&cli.log), "open\"\" bin[70000:az] pong[125:az]");
    free(heap), free(copy);
    hb_free(&want);
    hs_free(&srv), hs_free(&cli);
}

/* Streaming send: pieces of one message, pings in between. */
static void streaming_send(int server) {
    hsess s;
    hout o;
    memset(&o, 0, sizeof o);
    h_set_ctx("ws_send_frame pieces with pings between [%s]", server ? "server" : "client");
    hs_init(&s, server, D_WHOLE, 75);
    open_scripted(&s, server);
    CHECK_INT(ws_send_frame(&s.c, WS_OP_TEXT, "hel", 3, 0), 0);
    CHECK_INT(ws_ping(&s.c, "p1", 2), 0);
    CHECK_INT(ws_send_frame(&s.c, WS_OP_CONTINUATION, "lo ", 3, 0), 0);
    CHECK_INT(ws_send_text(&s.c, "other"), WS_E_STATE);           /* a message is in progress */
    CHECK_INT(ws_send_frame(&s.c, WS_OP_BINARY, "b", 1, 1), WS_E_STATE);
    CHECK_INT(ws_send_frame(&s.c, WS_OP_CONTINUATION, "\xe2", 1, 0), 0); /* split code point */
    CHECK_INT(ws_ping(&s.c, "p2", 2), 0);
    CHECK_INT(ws_send_frame(&s.c, WS_OP_CONTINUATION, "A", 1, 1), WS_E_UTF8); /* refused, nothing sent */
    CHECK_INT(ws_send_frame(&s.c, WS_OP_CONTINUATION, "\x82\xac", 2, 0), 0);
    CHECK_INT(ws_send_frame(&s.c, WS_OP_CONTINUATION, "", 0, 1), 0);
    CHECK_STR(frames_of(&s, &o), ">text~\"hel\" >ping\"p1\" >cont~\"lo \" >cont~\"\\xe2\" >ping\"p2\" "
                                 ">cont~\"\\x82\\xac\" >cont\"\"");
    /* Continuation without a message, and a message ending mid code point. */
    CHECK_INT(ws_send_frame(&s.c, WS_OP_CONTINUATION, "x", 1, 1), WS_E_STATE);
    CHECK_INT(ws_send_frame(&s.c, WS_OP_TEXT, "\xe2\x82", 2, 1), WS_E_UTF8);
    CHECK_INT(ws_send_frame(&s.c, WS_OP_BINARY, "\xe2\x82", 2, 0), 0);
    CHECK_INT(ws_send_frame(&s.c, WS_OP_CONTINUATION, "\xff", 1, 1), 0); /* binary is not checked */
    CHECK_STR(frames_of(&s, &o), ">text~\"hel\" >ping\"p1\" >cont~\"lo \" >cont~\"\\xe2\" >ping\"p2\" "
                                 ">cont~\"\\x82\\xac\" >cont\"\" >bin~\"\\xe2\\x82\" >cont\"\\xff\"");
    /* A close in the middle of a streamed message is allowed. */
    CHECK_INT(ws_send_frame(&s.c, WS_OP_BINARY, "part", 4, 0), 0);
    CHECK_INT(ws_close(&s.c, 1001, ""), 0);
    CHECK_INT(ws_send_frame(&s.c, WS_OP_CONTINUATION, "rest", 4, 1), WS_E_STATE);
    CHECKF(strstr(frames_of(&s, &o), ">bin~\"part\" >close:1001") != NULL, "%s", hb_cstr(&o.frames));
    h_out_free(&o);
    hs_free(&s);
}

/* A streamed send received by an engine, with its pings answered. */
static void streaming_send_pair(int delivery, uint64_t seed) {
    hsess srv, cli;
    unsigned char piece[5000];
    size_t i, k;
    h_set_ctx("streamed 500 KB message between engines [%s, seed %lu]", h_dname[delivery], (unsigned long)seed);
    hp_init(&srv, &cli, delivery, seed);
    hp_start(&srv, &cli);
    for (k = 0; k < 100; k++) {
        for (i = 0; i < sizeof piece; i++) piece[i] = (unsigned char)('a' + (k * sizeof piece + i) % 26);
        CHECK_INT(ws_send_frame(&cli.c, k ? WS_OP_CONTINUATION : WS_OP_BINARY, piece, sizeof piece, k == 99), 0);
        if (k % 10 == 5) CHECK_INT(ws_ping(&cli.c, "z", 1), 0);
        hp_settle(&srv, &cli);
    }
    CHECK_STR(hb_cstr(&srv.log), "open\"\" ping\"z\" ping\"z\" ping\"z\" ping\"z\" ping\"z\" ping\"z\" ping\"z\" "
                                 "ping\"z\" ping\"z\" ping\"z\" bin[500000:az]");
    CHECK_STR(hb_cstr(&cli.log), "open\"\" pong\"z\" pong\"z\" pong\"z\" pong\"z\" pong\"z\" pong\"z\" pong\"z\" "
                                 "pong\"z\" pong\"z\" pong\"z\"");
    hs_free(&srv), hs_free(&cli);
}

/* Arguments. */
static void arguments(void) {
    hsess s;
    int server;
    for (server = 0; server < 2; server++) {
        h_set_ctx("argument errors [%s]", server ? "server" : "client");
        hs_init(&s, server, D_WHOLE, 76);
        open_scripted(&s, server);
        CHECK_INT(ws_send_text(&s.c, "caf\xc3"), WS_E_UTF8);
        CHECK_INT(ws_send_text(&s.c, "\xff"), WS_E_UTF8);
        CHECK_INT(ws_send_text(&s.c, "\xed\xa0\x80"), WS_E_UTF8);
        CHECK_INT(ws_send(&s.c, WS_OP_TEXT, "\xc0\xaf", 2), WS_E_UTF8);
        CHECK_INT(ws_send(&s.c, WS_OP_PING, "x", 1), WS_E_INVALID);
        CHECK_INT(ws_send(&s.c, WS_OP_CLOSE, "x", 1), WS_E_INVALID);
        CHECK_INT(ws_send(&s.c, WS_OP_CONTINUATION, "x", 1), WS_E_INVALID);
        CHECK_INT(ws_send(&s.c, 3, "x", 1), WS_E_INVALID);
        CHECK_INT(ws_send_frame(&s.c, WS_OP_CLOSE, "", 0, 1), WS_E_INVALID);
        CHECK_INT(ws_send_frame(&s.c, 11, "", 0, 1), WS_E_INVALID);
        CHECK_INT(ws_send_frame(&s.c, -1, "", 0, 1), WS_E_INVALID);
        CHECK_INT(ws_send_binary(&s.c, NULL, 5), WS_E_INVALID);
        CHECK_INT(ws_send_binary(&s.c, NULL, 0), 0);
        CHECK_INT(ws_send_text(&s.c, ""), 0);
        CHECK_INT(ws_send_text(&s.c, NULL), 0);
        CHECK_INT(ws_send_frame(&s.c, WS_OP_PONG, "u", 1, 1), 0); /* unsolicited pong */
        {
            hout o;
            memset(&o, 0, sizeof o);
            CHECK_STR(frames_of(&s, &o), ">bin\"\" >text\"\" >text\"\" >pong\"u\"");
            h_out_free(&o);
        }
        CHECK_INT(ws_state(&s.c), WS_OPEN);
        hs_free(&s);
    }
    {
        unsigned char small[255];
        h_set_ctx("ws_conn_set_buffers below WS_MIN_BUFFER");
        hs_init(&s, 1, D_WHOLE, 77);
        ws_conn_init(&s.c, &s.cfg, &h_io_plain, &s.io);
        CHECK_INT(ws_conn_set_buffers(&s.c, small, sizeof small, NULL, 0), WS_E_INVALID);
        CHECK_INT(ws_conn_set_buffers(&s.c, NULL, 0, small, sizeof small), WS_E_INVALID);
        CHECK_INT(ws_conn_set_buffers(&s.c, small, WS_MIN_BUFFER - 1, small, WS_MIN_BUFFER - 1), WS_E_INVALID);
        CHECK_INT(ws_next_timeout(&s.c), -1);
        ws_conn_release(&s.c);
    }
}

/* ws_start_open: the handshake happened elsewhere. */
static void start_open(int delivery) {
    hsess srv, cli;
    h_set_ctx("ws_start_open on both sides [%s]", h_dname[delivery]);
    hp_init(&srv, &cli, delivery, 78);
    hs_start_open(&srv);
    hs_start_open(&cli);
    CHECK_INT(ws_state(&srv.c), WS_OPEN);
    CHECK_INT(ws_state(&cli.c), WS_OPEN);
    CHECK_INT(ws_send_text(&cli.c, "to server"), 0);
    CHECK_INT(ws_send_text(&srv.c, "to client"), 0);
    CHECK_INT(ws_ping(&srv.c, "s", 1), 0);
    hp_settle(&srv, &cli);
    CHECK_STR(hb_cstr(&srv.log), "open\"\" text\"to server\" pong\"s\"");
    CHECK_STR(hb_cstr(&cli.log), "open\"\" text\"to client\" ping\"s\"");
    CHECK_INT(ws_close(&cli.c, 1000, ""), 0);
    hp_settle(&srv, &cli);
    CHECK_INT(ws_state(&srv.c), WS_CLOSED);
    CHECK_INT(ws_state(&cli.c), WS_CLOSED);
    /* The server role still insists on masked frames. */
    {
        hsess s;
        hbuf in = {0};
        hs_init(&s, 1, delivery, 79);
        hs_start_open(&s);
        h_frame(&in, &s.rng, 0, 0x81, "unmasked", 8);
        hs_deliver(&s, in.p, in.len);
        CHECK_STR(hb_cstr(&s.log), "open\"\" err:PROTOCOL close:1002");
        hb_free(&in);
        hs_free(&s);
    }
    hs_invariants(&srv), hs_invariants(&cli);
    hs_free(&srv), hs_free(&cli);
}

/* Allocator mode: buffers only while data is in flight. */
static void allocator_idle(int delivery, uint64_t seed) {
    hsess srv, cli;
    unsigned char *msg = (unsigned char *)malloc(100000);
    size_t i;
    h_set_ctx("allocator mode gives buffers back when idle [%s, seed %lu]", h_dname[delivery], (unsigned long)seed);
    for (i = 0; i < 100000; i++) msg[i] = (unsigned char)('a' + i % 26);
    hp_init(&srv, &cli, delivery, seed);
    srv.cfg.rx_chunk = 256; /* small first buffer, so it must grow */
    hp_start(&srv, &cli);
    CHECK_INT(srv.live_allocs, 0);
    CHECK_INT(cli.live_allocs, 0);
    /* A message that comes in many reads: buffers held only meanwhile. */
    CHECK_INT(ws_send_binary(&cli.c, msg, 100000), 0);
    CHECK(cli.live_allocs <= 1);
    {
        int steps = 0, held = 0;
        while (cli.out.rd < cli.out.b.len || ws_buffered_amount(&cli.c)) {
            size_t want = cli.out.rd + 1000 < cli.out.b.len ? cli.out.rd + 1000 : cli.out.b.len;
            size_t save = cli.out.b.len;
            (void)hs_pump(&cli);
            save = cli.out.b.len, cli.out.b.len = want; /* the server sees 1000 more bytes */
            (void)hs_pump(&srv);
            cli.out.b.len = save;
            if (srv.live_allocs) held++;
            if (++steps > 100000) break;
        }
        CHECKF(held > 50, "rx buffer held in only %d of %d steps", held, steps);
    }
    hp_settle(&srv, &cli);
    CHECK_STR(hb_cstr(&srv.log), "open\"\" bin[100000:az]");
    CHECKF(srv.peak_bytes < 4 * 100000 + 65536, "peak %lu bytes", (unsigned long)srv.peak_bytes);
    CHECK_INT(srv.live_allocs, 0);
    CHECK_INT(cli.live_allocs, 0);
    /* After a close from the peer the reason needs the buffer; released by
     * ws_conn_release (checked in hs_free). */
    CHECK_INT(ws_close(&cli.c, 1000, "reason kept"), 0);
    hp_settle(&srv, &cli);
    CHECK_STR(srv.close_reason, "reason kept");
    CHECK_INT(ws_state(&srv.c), WS_CLOSED);
    free(msg);
    hs_free(&srv), hs_free(&cli);
}

/* The allocator says no. */
static void allocator_fails(int server) {
    hsess s;
    hbuf in = {0};
    h_set_ctx("allocation fails for the send queue [%s]", server ? "server" : "client");
    hs_init(&s, server, D_WHOLE, 80);
    open_scripted(&s, server);
    s.io.send_blocked = 1;
    s.fail_alloc_at = (long)s.alloc_calls + 1;
    CHECK_INT(ws_send_text(&s.c, "x"), WS_E_NOMEM);
    CHECK_INT(ws_buffered_amount(&s.c), 0);
    CHECK_INT(ws_state(&s.c), WS_OPEN);
    s.fail_alloc_at = 0;
    CHECK_INT(ws_send_text(&s.c, "x"), 0);
    hs_free(&s);

    h_set_ctx("allocation fails for the receive buffer [%s]", server ? "server" : "client");
    hs_init(&s, server, D_WHOLE, 81);
    open_scripted(&s, server);
    s.fail_alloc_at = (long)s.alloc_calls + 1;
    h_frame(&in, &s.rng, server, 0x81, "hi", 2);
    hs_deliver(&s, in.p, in.len);
    CHECK_INT(ws_state(&s.c), WS_CLOSED);
    CHECK_INT(s.last_err, WS_E_NOMEM);
    CHECK_INT(s.close_code, 1011);
    hb_free(&in);
    hs_free(&s);
}

/* The transport fails. */
static void transport_errors(int server) {
    hsess s;
    h_set_ctx("recv fails [%s]", server ? "server" : "client");
    hs_init(&s, server, D_WHOLE, 82);
    open_scripted(&s, server);
    s.io.recv_fail = 1;
    CHECK_INT(hs_pump(&s), WS_E_CLOSED);
    CHECK_STR(hb_cstr(&s.log), "open\"\" err:IO close:1006");
    hs_invariants(&s);
    hs_free(&s);

    h_set_ctx("send fails [%s]", server ? "server" : "client");
    hs_init(&s, server, D_WHOLE, 83);
    open_scripted(&s, server);
    s.io.send_fail = 1;
    CHECK(ws_send_text(&s.c, "x") == WS_E_CLOSED || hs_pump(&s) == WS_E_CLOSED);
    CHECK_INT(ws_state(&s.c), WS_CLOSED);
    CHECK_STR(hb_cstr(&s.log), "open\"\" err:IO close:1006");
    CHECK_INT(ws_send_text(&s.c, "y"), WS_E_STATE);
    hs_invariants(&s);
    hs_free(&s);
}

/* ws_close from on_open, and ws_send from on_request (not open yet). */
static int request_send_rc = 99;
static int request_sends(hsess *s, const ws_request *req, ws_accept *acc) {
    (void)req, (void)acc;
    request_send_rc = ws_send_text(&s->c, "too early");
    return 0;
}
static void close_from_on_open_cb(ws_conn *c, const char *sub) {
    hcb_open(c, sub);
    (void)ws_close(c, 4000, "not today");
}

static void handshake_callbacks(int server, int delivery) {
    hsess s;
    hout o;
    hbuf in = {0};
    memset(&o, 0, sizeof o);
    h_set_ctx("ws_close from on_open [%s, %s]", server ? "server" : "client", h_dname[delivery]);
    hs_init(&s, server, delivery, 91);
    s.cfg.on_open = close_from_on_open_cb;
    s.on_request = request_sends;
    if (server) CHECK(hs_start_server(&s) == 0);
    else CHECK(hs_start_client(&s, &h_client_opts) == 0);
    hs_handshake_bytes(&s, &in);
    h_frame(&in, &s.rng, server, 0x89, "p", 1); /* behind the handshake: no pong after our close */
    hs_deliver(&s, in.p, in.len);
    if (server) CHECK_INT(request_send_rc, WS_E_STATE);
    CHECK_INT(ws_state(&s.c), WS_CLOSING);
    h_parse_out(&s, &o);
    if (server) CHECK_INT(o.status, 101);
    CHECK_STR(hb_cstr(&o.frames), ">close:4000");
    CHECK_STR(o.close_reason, "not today");
    h_out_free(&o);
    hb_clear(&in);
    h_close_frame(&in, &s.rng, server, 4000, "");
    hs_deliver(&s, in.p, in.len);
    if (!server) hs_eof(&s);
    CHECK_INT(ws_state(&s.c), WS_CLOSED);
    CHECK_INT(s.close_code, 4000);
    hs_invariants(&s);
    hb_free(&in);
    hs_free(&s);
}

/* The smallest send buffer ws_conn_set_buffers accepts (WS_MIN_BUFFER) must
 * carry a plain handshake: a ~150-byte client request, a 101 with a short
 * subprotocol. */
static int pick_chat(hsess *s, const ws_request *req, ws_accept *acc) {
    (void)s;
    if (ws_request_offers(req, "chat")) acc->subprotocol = "chat";
    return 0;
}

static void min_send_buffer(void) {
    hsess s;
    hbuf in = {0};
    ws_client_options opt = h_client_opts;
    h_set_ctx("client request with a WS_MIN_BUFFER send buffer");
    hs_init(&s, 0, D_WHOLE, 92);
    hs_fixed(&s, 1024, WS_MIN_BUFFER);
    opt.subprotocols = "chat";
    CHECK_INT(hs_start_client(&s, &opt), 0);
    CHECKF(hs_http_len(&s) > 100 && hs_http_len(&s) < WS_MIN_BUFFER, "request of %lu bytes",
           (unsigned long)hs_http_len(&s));
    hs_free(&s);

    h_set_ctx("server 101 with a subprotocol from a WS_MIN_BUFFER send buffer");
    hs_init(&s, 1, D_WHOLE, 93);
    hs_fixed(&s, 1024, WS_MIN_BUFFER);
    s.on_request = pick_chat;
    CHECK(hs_start_server(&s) == 0);
    hb_str(&in, "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: " H_KEY "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n");
    hs_deliver(&s, in.p, in.len);
    CHECK_INT(ws_state(&s.c), WS_OPEN);
    CHECK_STR(hb_cstr(&s.log), "open\"chat\"");
    hb_free(&in);
    hs_free(&s);
}

/* A NULL reason means none (ws_close computes its length as 0). Run last:
 * under UBSan a NULL handed to memcpy aborts the program. */
static void close_null_reason(void) {
    int server;
    for (server = 0; server < 2; server++) {
        hsess s;
        hout o;
        memset(&o, 0, sizeof o);
        h_set_ctx("ws_close(1000, NULL) [%s]", server ? "server" : "client");
        hs_init(&s, server, D_WHOLE, 90);
        open_scripted(&s, server);
        CHECK_INT(ws_close(&s.c, 1000, NULL), 0);
        CHECK_STR(frames_of(&s, &o), ">close:1000");
        CHECK_STR(o.close_reason, "");
        h_out_free(&o);
        hs_free(&s);
    }
}

int main(void) {
    int d, server, who, alloc;
    unsigned k;
    for (d = 0; d <= D_RANDOM; d++)
        for (who = 0; who < 2; who++) ready_state(who, d);
    for (server = 0; server < 2; server++) {
        buffered_amount(server);
        full_edges(server);
        callbacks_after_the_end(server);
        streaming_send(server);
        allocator_fails(server);
        transport_errors(server);
    }
    buffered_amount_in_callback();
    for (who = 0; who < 2; who++)
        for (alloc = 0; alloc < 2; alloc++)
            for (k = 0; k < 4; k++) backpressure(who, alloc, 200u + k);
    for (d = 0; d <= D_RANDOM; d++)
        for (k = 0; k < (d == D_RANDOM ? 4u : 1u); k++) {
            echo_from_callbacks(d, 300u + k);
            streaming_send_pair(d, 400u + k);
            allocator_idle(d, 500u + k);
        }
    for (d = 0; d <= D_RANDOM; d++) {
        caller_buffer(d);
        start_open(d);
    }
    arguments();
    for (server = 0; server < 2; server++)
        for (d = 0; d < D_COUNT; d++) handshake_callbacks(server, d);
    min_send_buffer();
    close_null_reason();
    return h_report();
}
