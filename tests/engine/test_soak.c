/* Round-trip soak: a client and a server engine exchange random messages
 * (0..200 KiB, text and binary), sent whole or in random pieces with pings
 * in between, through pipes that split reads at random, would-block on
 * both sides and take partial writes. Every payload is checked byte for
 * byte, in order; every ping gets its pong; the run ends with a clean close.
 * Bounded by a message count and a CPU-time cap per configuration. */
#include "harness.h"

#define MAX_MSG (200u * 1024u)

/* Text payloads: whole code points of 1 to 4 bytes. */
static const unsigned char text_cycle[] = "ab\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"; /* 12 bytes */
#define TEXT_CYCLE 12u

static unsigned char payload_byte(uint64_t id, size_t pos, int text) {
    return text ? text_cycle[pos % TEXT_CYCLE] : h_pattern(id, pos);
}

typedef struct expect {
    uint64_t id;
    size_t len;
    int text;
} expect;

/* One direction: a sender engine and the receiver engine. */
typedef struct dir {
    const char *name;
    hsess *tx, *rx;
    uint64_t next_id, sent_msgs, recv_msgs, target;
    /* the message being sent */
    int sending, text;
    size_t len, off;
    unsigned pieces_left;
    /* what the receiver must see, in order */
    expect *q;
    size_t q_head, q_len, q_cap;
    size_t pos; /* streaming: bytes of the head message seen */
    unsigned long bad, pings, full, pieces;
    size_t max_piece; /* pieces must fit the sender's queue (0: any) */
    uint64_t bytes;
} dir;

static unsigned char scratch[MAX_MSG];

static void q_push(dir *d, expect e) {
    if (d->q_head + d->q_len == d->q_cap) {
        if (d->q_head) {
            memmove(d->q, d->q + d->q_head, d->q_len * sizeof *d->q);
            d->q_head = 0;
        } else {
            d->q_cap = d->q_cap ? 2 * d->q_cap : 64;
            d->q = (expect *)realloc(d->q, d->q_cap * sizeof *d->q);
        }
    }
    d->q[d->q_head + d->q_len++] = e;
}

static expect *q_front(dir *d) { return d->q_len ? &d->q[d->q_head] : NULL; }
static void q_pop(dir *d) {
    d->q_head++, d->q_len--;
    if (!d->q_len) d->q_head = 0;
}

/* Receiver side: whole messages. */
static void on_whole(hsess *s, int op, const unsigned char *p, size_t n) {
    dir *d = (dir *)s->user;
    expect *e = q_front(d);
    size_t i;
    if (!e) {
        d->bad++;
        return;
    }
    if (n != e->len || op != (e->text ? WS_OP_TEXT : WS_OP_BINARY)) d->bad++;
    else
        for (i = 0; i < n; i++)
            if (p[i] != payload_byte(e->id, i, e->text)) {
                d->bad++;
                break;
            }
    d->recv_msgs++;
    d->bytes += n;
    q_pop(d);
}

/* Receiver side: pieces (checked as they come). */
static void on_piece(ws_conn *c, int op, const void *data, size_t n, int flags) {
    hsess *s = (hsess *)c->user;
    dir *d = (dir *)s->user;
    expect *e = q_front(d);
    const unsigned char *p = (const unsigned char *)data;
    size_t i;
    if (!e) {
        d->bad++;
        return;
    }
    if (flags & WS_FIRST) {
        if (d->pos) d->bad++;
        d->pos = 0;
    }
    if (op != (e->text ? WS_OP_TEXT : WS_OP_BINARY) || d->pos + n > e->len) {
        d->bad++;
        return;
    }
    for (i = 0; i < n; i++)
        if (p[i] != payload_byte(e->id, d->pos + i, e->text)) {
            d->bad++;
            break;
        }
    d->pos += n;
    if (flags & WS_LAST) {
        if (d->pos != e->len) d->bad++;
        d->recv_msgs++;
        d->bytes += e->len;
        d->pos = 0;
        q_pop(d);
    }
}

static size_t pick_len(hrng *r, int text) {
    size_t n;
    switch (hr_below(r, 10)) {
    case 0: n = 0; break;
    case 1: case 2: case 3: case 4: n = hr_below(r, 126); break;
    case 5: case 6: case 7: n = 126 + hr_below(r, 8000); break;
    default: n = hr_below(r, MAX_MSG + 1); break;
    }
    if (text) n -= n % TEXT_CYCLE;
    return n;
}

/* Moves the sender on: starts a message, sends the next piece, a ping now
 * and then. WS_E_FULL just means "later". */
static void step_sender(dir *d) {
    hsess *s = d->tx;
    hrng *r = &s->rng;
    if (ws_state(&s->c) != WS_OPEN) return;
    if (hr_below(r, 20) == 0) {
        unsigned char p[8];
        hr_fill(r, p, sizeof p);
        if (ws_ping(&s->c, p, hr_below(r, 9)) == 0) d->pings++;
    }
    if (!d->sending) {
        if (d->next_id >= d->target) return;
        d->text = hr_below(r, 3) == 0;
        d->len = pick_len(r, d->text);
        d->off = 0;
        d->pieces_left = hr_below(r, 2) ? 1 : 2 + (unsigned)hr_below(r, 7);
        d->sending = 1;
    }
    while (d->sending) {
        size_t k = d->pieces_left == 1 ? d->len - d->off : hr_below(r, d->len - d->off + 1), i;
        int first, fin, rc;
        if (d->max_piece && k > d->max_piece) {
            k = d->max_piece;
            if (d->pieces_left < 2) d->pieces_left = 2;
        }
        if (d->off + k == d->len && d->pieces_left > 1 && d->max_piece) d->pieces_left = 1;
        first = d->pieces == 0, fin = d->pieces_left == 1;
        int op = first ? (d->text ? WS_OP_TEXT : WS_OP_BINARY) : WS_OP_CONTINUATION;
        if (d->text && !fin) { /* a piece may end inside a code point */
            size_t extra = hr_below(r, TEXT_CYCLE);
            k -= k % TEXT_CYCLE;
            if (k + extra <= d->len - d->off) k += extra;
        }
        for (i = 0; i < k; i++) scratch[i] = payload_byte(d->next_id, d->off + i, d->text);
        rc = d->pieces_left == 1 && d->pieces == 0 ? ws_send(&s->c, op, scratch, k)
                                                    : ws_send_frame(&s->c, op, scratch, k, fin);
        if (rc == WS_E_FULL) { /* later, once the queue has drained */
            d->full++;
            return;
        }
        if (rc == WS_E_TOO_BIG) { /* never fits this send buffer: smaller pieces */
            d->full++;
            CHECKF(k > 64, "%s: a %lu-byte piece is too big", d->name, (unsigned long)k);
            d->max_piece = k / 2;
            return;
        }
        if (rc != 0) {
            CHECKF(rc == 0, "%s: send gave %s", d->name, h_errname(rc));
            d->sending = 0;
            return;
        }
        if (d->pieces == 0) {
            expect e;
            e.id = d->next_id, e.len = d->len, e.text = d->text;
            q_push(d, e);
        }
        d->off += k, d->pieces++, d->pieces_left--;
        if (fin) {
            d->sending = 0, d->pieces = 0;
            d->next_id++, d->sent_msgs++;
            return;
        }
        if (hr_below(r, 3) == 0) return; /* let the pumps run between pieces */
    }
}

typedef struct soak_cfg {
    const char *name;
    int srv_fixed, cli_fixed;   /* fixed buffers (else the allocator) */
    int srv_stream, cli_stream; /* streaming receive through a small buffer */
    int vec;                    /* sendv on both sides */
    size_t small_tx;            /* fixed send buffers of this size (0: as above) */
} soak_cfg;

static const soak_cfg cfgs[] = {
    {"allocator both sides", 0, 0, 0, 0, 0, 0},
    {"fixed buffers both sides, sendv", 1, 1, 0, 0, 1, 0},
    {"streaming receive through 1 KiB buffers", 2, 2, 1, 1, 0, 0},
    {"server fixed + streaming, client allocator, sendv", 2, 0, 1, 0, 1, 0},
    {"8 KiB send buffers, streaming receive", 2, 2, 1, 1, 0, 8192},
};

static void setup_side(hsess *s, int fixed, int stream, int vec, size_t small_tx) {
    s->use_vec = vec;
    s->io.again_pct = 25;
    if (fixed == 1) hs_fixed(s, MAX_MSG + 4096, small_tx ? small_tx : MAX_MSG + 4096);
    if (fixed == 2) hs_fixed(s, 1024, small_tx ? small_tx : MAX_MSG + 4096);
    if (stream) s->cfg.on_fragment = on_piece;
}

static void soak(const soak_cfg *cfg, uint64_t seed, unsigned target, double cpu_cap) {
    hsess srv, cli;
    dir up, down; /* client -> server, server -> client */
    clock_t t0 = clock();
    unsigned long iter = 0;
    int capped = 0;
    memset(&up, 0, sizeof up), memset(&down, 0, sizeof down);
    h_set_ctx("soak: %s [seed %lu]", cfg->name, (unsigned long)seed);
    hp_init(&srv, &cli, D_RANDOM, seed);
    setup_side(&srv, cfg->srv_fixed, cfg->srv_stream, cfg->vec, cfg->small_tx);
    setup_side(&cli, cfg->cli_fixed, cfg->cli_stream, cfg->vec, cfg->small_tx);
    up.name = "client->server", up.tx = &cli, up.rx = &srv, up.target = target;
    down.name = "server->client", down.tx = &srv, down.rx = &cli, down.target = target;
    srv.user = &up, srv.on_msg = on_whole;
    cli.user = &down, cli.on_msg = on_whole;
    hp_start(&srv, &cli);
    while (up.recv_msgs < target || down.recv_msgs < target) {
        step_sender(&up);
        step_sender(&down);
        if (hr_below(&srv.rng, 2)) (void)hs_pump(&srv), (void)hs_pump(&cli);
        else (void)hs_pump(&cli), (void)hs_pump(&srv);
        if ((++iter & 255) == 0) {
            hp_compact(&srv.out), hp_compact(&cli.out);
            if ((double)(clock() - t0) / CLOCKS_PER_SEC > cpu_cap) {
                capped = 1;
                break;
            }
        }
        if (ws_state(&srv.c) != WS_OPEN || ws_state(&cli.c) != WS_OPEN) break;
        if (up.bad || down.bad) break;
    }
    /* Finish what is in flight, then close. */
    if (!capped) {
        while ((up.sending || down.sending) && ws_state(&srv.c) == WS_OPEN && ws_state(&cli.c) == WS_OPEN) {
            step_sender(&up), step_sender(&down);
            hp_settle(&srv, &cli);
        }
        hp_settle(&srv, &cli);
        CHECK_INT(up.recv_msgs, up.sent_msgs);
        CHECK_INT(down.recv_msgs, down.sent_msgs);
        CHECK(up.q_len == 0 && down.q_len == 0);
    }
    CHECK_INT(up.bad, 0);
    CHECK_INT(down.bad, 0);
    CHECK_INT(ws_state(&srv.c), WS_OPEN);
    CHECK_INT(ws_state(&cli.c), WS_OPEN);
    CHECK_INT(srv.errors + cli.errors, 0);
    {
        /* Every ping answered: count pongs in the logs. */
        const char *p;
        unsigned long n;
        for (n = 0, p = hb_cstr(&cli.log); (p = strstr(p, "pong")) != NULL; p += 4) n++;
        if (!capped) CHECK_INT(n, up.pings);
        for (n = 0, p = hb_cstr(&srv.log); (p = strstr(p, "pong")) != NULL; p += 4) n++;
        if (!capped) CHECK_INT(n, down.pings);
    }
    CHECK_INT(ws_close(&cli.c, 1000, "soak done"), 0);
    hp_settle(&srv, &cli);
    CHECK_INT(ws_state(&srv.c), WS_CLOSED);
    CHECK_INT(ws_state(&cli.c), WS_CLOSED);
    CHECK_INT(srv.close_code, 1000);
    CHECK_STR(srv.close_reason, "soak done");
    CHECK_INT(cli.close_code, 1000);
    hs_invariants(&srv), hs_invariants(&cli);
    printf("soak %-50s seed %lu: %lu+%lu messages, %.1f+%.1f MiB, %lu+%lu pings, %lu+%lu full, %.2f s%s\n",
           cfg->name, (unsigned long)seed, (unsigned long)up.recv_msgs, (unsigned long)down.recv_msgs,
           (double)up.bytes / 1048576.0, (double)down.bytes / 1048576.0, up.pings, down.pings, up.full, down.full,
           (double)(clock() - t0) / CLOCKS_PER_SEC, capped ? " (time cap)" : "");
    free(up.q), free(down.q);
    hs_free(&srv), hs_free(&cli);
}

int main(int argc, char **argv) {
    size_t i;
    unsigned target = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000;
    double cap = argc > 2 ? strtod(argv[2], NULL) : 10.0;
    for (i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) soak(&cfgs[i], 9000u + i, target, cap);
    return h_report();
}
