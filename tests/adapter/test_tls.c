/* mbedTLS adapter tests (tests/adapter/test_tls.c), in-process: both ends of
 * every TLS session live in this program, over a socketpair or a loopback
 * TCP connection, driven from one thread.
 *
 * Certificates are made at start-up with openssl in a temporary directory:
 * a test CA, a server certificate for localhost, 127.0.0.1 and ::1 signed
 * by it (also as DER and with an encrypted key), and a second CA that
 * signed nothing we serve.
 *
 * Linked with -Wl,--wrap for read, send and poll (the adapter's socket
 * calls) and for mbedtls_ssl_setup, mbedtls_ssl_set_hostname and
 * mbedtls_x509_crt_parse_file, so that their failures can be injected
 * (tests/adapter/faults.h). Checks: ws_tls_config_init from files and
 * buffers and each of its refusals, with the text it gives; the system CA
 * bundle search; ws_tls_init's refusals; IP literals as server names;
 * sessions (echo, close_notify, verification failures, a peer that leaves
 * or talks garbage during the handshake, receive and send failures,
 * "want write" during the handshake and for a record mbedTLS queued by
 * itself); ws_connect_url_tls, ws_tls_poll and ws_tls_disconnect, with
 * every setup failure of ws_connect_url_tls. Under the sanitizers,
 * LeakSanitizer checks that every failure frees what it took.
 * Prints "N passed, N failed". */
#define WS_IMPLEMENTATION
#define WS_MBEDTLS
#include "ws.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

#include "faults.h"

/* ---- the wrapped calls ---- */
static fault f_read, f_send, f_poll, f_ssl_setup, f_set_hostname, f_parse_file;
/* read: a "would block" becomes this error (0: off), so that a failure
 * comes right after the bytes that were there */
static int read_again_err;
/* mbedtls_x509_crt_parse_file: the paths asked for, and a file to parse
 * instead of the system bundles (NULL: the real ones) */
static char parsed_paths[8][128];
static int parsed_count;
static const char *bundle_redirect;

ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_send(int fd, const void *buf, size_t n, int flags);
int __real_poll(struct pollfd *p, nfds_t n, int timeout);
int __real_mbedtls_ssl_setup(mbedtls_ssl_context *ssl, const mbedtls_ssl_config *conf);
int __real_mbedtls_ssl_set_hostname(mbedtls_ssl_context *ssl, const char *name);
int __real_mbedtls_x509_crt_parse_file(mbedtls_x509_crt *crt, const char *path);

ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags);
int __wrap_poll(struct pollfd *p, nfds_t n, int timeout);
int __wrap_mbedtls_ssl_setup(mbedtls_ssl_context *ssl, const mbedtls_ssl_config *conf);
int __wrap_mbedtls_ssl_set_hostname(mbedtls_ssl_context *ssl, const char *name);
int __wrap_mbedtls_x509_crt_parse_file(mbedtls_x509_crt *crt, const char *path);

ssize_t __wrap_read(int fd, void *buf, size_t n) {
    ssize_t r;
    if (fault_hit(&f_read)) return -1;
    r = __real_read(fd, buf, n);
    if (r < 0 && read_again_err && (errno == EAGAIN || errno == EWOULDBLOCK)) errno = read_again_err;
    return r;
}
ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags) {
    return fault_hit(&f_send) ? -1 : __real_send(fd, buf, n, flags);
}
int __wrap_poll(struct pollfd *p, nfds_t n, int timeout) {
    return fault_hit(&f_poll) ? -1 : __real_poll(p, n, timeout);
}
int __wrap_mbedtls_ssl_setup(mbedtls_ssl_context *ssl, const mbedtls_ssl_config *conf) {
    return fault_hit(&f_ssl_setup) ? MBEDTLS_ERR_SSL_ALLOC_FAILED : __real_mbedtls_ssl_setup(ssl, conf);
}
int __wrap_mbedtls_ssl_set_hostname(mbedtls_ssl_context *ssl, const char *name) {
    return fault_hit(&f_set_hostname) ? MBEDTLS_ERR_SSL_BAD_INPUT_DATA : __real_mbedtls_ssl_set_hostname(ssl, name);
}
int __wrap_mbedtls_x509_crt_parse_file(mbedtls_x509_crt *crt, const char *path) {
    if (parsed_count < 8) snprintf(parsed_paths[parsed_count++], sizeof parsed_paths[0], "%s", path);
    if (fault_hit(&f_parse_file)) return MBEDTLS_ERR_X509_FILE_IO_ERROR;
    if (bundle_redirect && strncmp(path, "/etc/", 5) == 0) path = bundle_redirect;
    return __real_mbedtls_x509_crt_parse_file(crt, path);
}

static void faults_off(void) {
    fault_reset(&f_read), fault_reset(&f_send), fault_reset(&f_poll);
    fault_reset(&f_ssl_setup), fault_reset(&f_set_hostname), fault_reset(&f_parse_file);
    read_again_err = 0;
    parsed_count = 0;
    bundle_redirect = NULL;
}

/* ---- certificates ---- */
static char dir[64];
static char p_ca[96], p_ca_der[96], p_other[96], p_crt[96], p_crt_der[96], p_key[96], p_key_der[96],
    p_key_enc[96];

static void path_in(char *out, const char *name) { snprintf(out, 96, "%s/%s", dir, name); }

static int make_certs(void) {
    char cmd[2048];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/ws-adapter-tls-XXXXXX", tmp && *tmp && strlen(tmp) < 30 ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        printf("FAIL: mkdtemp %s\n", dir);
        return -1;
    }
    if (system("openssl version >/dev/null 2>&1") != 0) {
        printf("FAIL: openssl not found (see tests/apt-packages.txt)\n");
        return -1;
    }
    snprintf(cmd, sizeof cmd,
             "cd '%s' && ( ec='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes' && "
             "openssl req -x509 $ec -keyout ca.key -out ca.crt -days 2 -subj '/CN=ws.h adapter test CA' && "
             "openssl req -x509 $ec -keyout other.key -out other.crt -days 2 -subj '/CN=ws.h other CA' && "
             "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\\nbasicConstraints=CA:FALSE\\n' "
             "> server.ext && "
             "openssl req -new $ec -keyout server.key -out server.csr -subj /CN=localhost && "
             "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 2 "
             "-out server.crt -extfile server.ext && "
             "openssl x509 -in ca.crt -outform DER -out ca.der && "
             "openssl x509 -in server.crt -outform DER -out server.der && "
             "openssl pkey -in server.key -outform DER -out server.key.der && "
             "openssl ec -in server.key -aes128 -passout pass:secret -out server-enc.key "
             ") >openssl.log 2>&1 || { cat openssl.log; exit 1; }",
             dir);
    if (system(cmd) != 0) {
        printf("FAIL: making the test certificates with openssl failed\n");
        return -1;
    }
    path_in(p_ca, "ca.crt"), path_in(p_ca_der, "ca.der"), path_in(p_other, "other.crt");
    path_in(p_crt, "server.crt"), path_in(p_crt_der, "server.der"), path_in(p_key, "server.key");
    path_in(p_key_der, "server.key.der"), path_in(p_key_enc, "server-enc.key");
    return 0;
}

static void remove_certs(void) {
    static const char *names[] = {"ca.key",     "ca.crt",     "other.key",     "other.crt",     "server.ext",
                                  "server.key", "server.csr", "server.crt",    "ca.der",        "server.der",
                                  "server.key.der", "server-enc.key", "openssl.log"};
    char p[96];
    size_t i;
    if (!dir[0]) return;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) path_in(p, names[i]), (void)unlink(p);
    (void)rmdir(dir);
}

/* The file's bytes, NUL-terminated (a PEM file is then a C string). */
static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = (unsigned char *)malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) free(b), b = NULL;
    fclose(f);
    if (b) b[n] = 0, *len = (size_t)n;
    return b;
}

/* ---- helpers ---- */
static int accept_one(int l) {
    int i, a = -1;
    for (i = 0; i < 1000 && a < 0; i++) {
        a = ws_tcp_accept(l);
        if (a < 0) nap_ms(10);
    }
    return a;
}

/* Whether fd's peer closed (EOF or reset) within ~10 s; bytes before the
 * end are read and dropped. */
static int peer_closed(int fd) {
    struct pollfd p;
    char b[512];
    int i;
    for (i = 0; i < 200; i++) {
        ssize_t n;
        p.fd = fd, p.events = POLLIN, p.revents = 0;
        (void)__real_poll(&p, 1, 50);
        n = __real_read(fd, b, sizeof b);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) return 1;
    }
    return 0;
}

/* ---- events ---- */
typedef struct ev {
    int opened, closes, close_code, errors, last_err, messages;
    size_t last_len;
    unsigned long sum;
    char last[64], error[256], close_reason[256];
} ev;

/* events of a connection whose user pointer is not set yet (failures
 * inside ws_connect_url_tls) */
static ev orphan;
static ev *evof(ws_conn *c) { return c->user ? (ev *)c->user : &orphan; }
static void on_open(ws_conn *c, const char *sp) {
    (void)sp;
    evof(c)->opened++;
}
static void on_message(ws_conn *c, int op, const void *d, size_t n) {
    ev *e = evof(c);
    size_t i;
    e->messages++;
    e->last_len = n;
    for (i = 0; i < n; i++) e->sum += ((const unsigned char *)d)[i];
    snprintf(e->last, sizeof e->last, "%.*s", (int)(n < 63 ? n : 63), (const char *)d);
    if (c->server && n && ((const char *)d)[0] == 'e') (void)ws_send(c, op, d, n); /* "echo..." */
}
static void on_close(ws_conn *c, int code, const char *why) {
    evof(c)->closes++;
    evof(c)->close_code = code;
    snprintf(evof(c)->close_reason, sizeof evof(c)->close_reason, "%s", why);
}
static void on_error(ws_conn *c, int err, const char *why) {
    evof(c)->errors++;
    evof(c)->last_err = err;
    snprintf(evof(c)->error, sizeof evof(c)->error, "%s", why);
}

static ws_config mkcfg(void) {
    ws_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.on_open = on_open, cfg.on_message = on_message, cfg.on_close = on_close, cfg.on_error = on_error;
    cfg.realloc_fn = ws_libc_realloc;
    return cfg;
}

/* ---- ws_tls_config_init ---- */
static void test_config_errors(void) {
    ws_tls_config tc;
    ws_tls_options o;

    /* a server needs a certificate */
    CHECK_INT(ws_tls_config_init(&tc, 1, NULL), WS_E_TLS);
    CHECK_STR(ws_tls_config_reason(&tc), "a TLS server needs a certificate and a key");
    CHECK_INT(tc.live, 0);
    ws_tls_config_free(&tc); /* nothing to free: harmless */

    /* a certificate file that is not there: the file is named, with
     * mbedTLS's text and code */
    memset(&o, 0, sizeof o);
    o.cert_file = "/nonexistent/ws-test.crt", o.key_file = p_key;
    CHECK_INT(ws_tls_config_init(&tc, 1, &o), WS_E_TLS);
    CHECK_PREFIX(ws_tls_config_reason(&tc), "could not load the certificate from /nonexistent/ws-test.crt: ");
    CHECK_HAS(ws_tls_config_reason(&tc), "(-0x");

    /* a certificate without a key */
    memset(&o, 0, sizeof o);
    o.cert_file = p_crt;
    CHECK_INT(ws_tls_config_init(&tc, 1, &o), WS_E_TLS);
    CHECK_STR(ws_tls_config_reason(&tc), "a certificate was given without its private key");

    /* a key file that is not there */
    o.key_file = "/nonexistent/ws-test.key";
    CHECK_INT(ws_tls_config_init(&tc, 1, &o), WS_E_TLS);
    CHECK_PREFIX(ws_tls_config_reason(&tc), "could not load the private key from /nonexistent/ws-test.key: ");

    /* a key buffer that holds no key: no file to name */
    memset(&o, 0, sizeof o);
    o.cert_file = p_crt, o.key = "not a key";
    CHECK_INT(ws_tls_config_init(&tc, 1, &o), WS_E_TLS);
    CHECK_PREFIX(ws_tls_config_reason(&tc), "could not load the private key: ");
    CHECK_HAS(ws_tls_config_reason(&tc), "PK - ");

    /* a certificate buffer that holds no certificate */
    memset(&o, 0, sizeof o);
    o.cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", o.key_file = p_key;
    CHECK_INT(ws_tls_config_init(&tc, 1, &o), WS_E_TLS);
    CHECK_PREFIX(ws_tls_config_reason(&tc), "could not load the certificate: ");

    /* an encrypted key: without the password, with a wrong one */
    memset(&o, 0, sizeof o);
    o.cert_file = p_crt, o.key_file = p_key_enc;
    CHECK_INT(ws_tls_config_init(&tc, 1, &o), WS_E_TLS);
    CHECK_PREFIX(ws_tls_config_reason(&tc), "could not load the private key from ");
    CHECK_HAS(ws_tls_config_reason(&tc), "password");
    o.key_password = "wrong";
    CHECK_INT(ws_tls_config_init(&tc, 1, &o), WS_E_TLS);
    CHECK_HAS(ws_tls_config_reason(&tc), "password");
    o.key_password = "secret";
    CHECK_INT(ws_tls_config_init(&tc, 1, &o), 0);
    CHECK_STR(ws_tls_config_reason(&tc), "");
    ws_tls_config_free(&tc);
    ws_tls_config_free(&tc); /* twice: harmless */

    /* client: a CA file that is not there, a CA buffer without a CA */
    memset(&o, 0, sizeof o);
    o.ca_file = "/nonexistent/ws-ca.crt";
    CHECK_INT(ws_tls_config_init(&tc, 0, &o), WS_E_TLS);
    CHECK_PREFIX(ws_tls_config_reason(&tc), "could not load the trusted CA certificates from /nonexistent/ws-ca.crt: ");
    memset(&o, 0, sizeof o);
    o.ca = "junk", o.ca_len = 4;
    CHECK_INT(ws_tls_config_init(&tc, 0, &o), WS_E_TLS);
    CHECK_PREFIX(ws_tls_config_reason(&tc), "could not load the trusted CA certificates: ");
    /* insecure: no CA needed */
    memset(&o, 0, sizeof o);
    o.insecure_skip_verify = 1;
    CHECK_INT(ws_tls_config_init(&tc, 0, &o), 0);
    ws_tls_config_free(&tc);
}

/* Certificates, keys and CAs from memory: PEM as C strings (length 0),
 * DER with its length, a CA bundle with one certificate mbedTLS cannot
 * read. Each configuration then carries a session. */
static int session_ok(ws_tls_config *server, ws_tls_config *client, const char *name);

static void test_config_buffers(void) {
    size_t n_ca, n_ca_der, n_crt, n_crt_der, n_key, n_key_der;
    unsigned char *ca = slurp(p_ca, &n_ca), *ca_der = slurp(p_ca_der, &n_ca_der), *crt = slurp(p_crt, &n_crt),
                  *crt_der = slurp(p_crt_der, &n_crt_der), *key = slurp(p_key, &n_key),
                  *key_der = slurp(p_key_der, &n_key_der);
    ws_tls_config stc, ctc;
    ws_tls_options so, co;
    CHECK(ca && ca_der && crt && crt_der && key && key_der);
    if (!(ca && ca_der && crt && crt_der && key && key_der)) goto out;

    /* PEM strings */
    memset(&so, 0, sizeof so), memset(&co, 0, sizeof co);
    so.cert = crt, so.key = key;
    co.ca = ca;
    CHECK_INT(ws_tls_config_init(&stc, 1, &so), 0);
    CHECK_INT(ws_tls_config_init(&ctc, 0, &co), 0);
    CHECK(session_ok(&stc, &ctc, "localhost"));
    ws_tls_config_free(&stc), ws_tls_config_free(&ctc);

    /* PEM with its length counting the NUL */
    so.cert_len = n_crt + 1, so.key_len = n_key + 1, co.ca_len = n_ca + 1;
    CHECK_INT(ws_tls_config_init(&stc, 1, &so), 0);
    CHECK_INT(ws_tls_config_init(&ctc, 0, &co), 0);
    ws_tls_config_free(&stc), ws_tls_config_free(&ctc);

    /* DER */
    memset(&so, 0, sizeof so), memset(&co, 0, sizeof co);
    so.cert = crt_der, so.cert_len = n_crt_der, so.key = key_der, so.key_len = n_key_der;
    co.ca = ca_der, co.ca_len = n_ca_der;
    CHECK_INT(ws_tls_config_init(&stc, 1, &so), 0);
    CHECK_INT(ws_tls_config_init(&ctc, 0, &co), 0);
    CHECK(session_ok(&stc, &ctc, "localhost"));
    ws_tls_config_free(&stc), ws_tls_config_free(&ctc);

    /* an encrypted key in memory, with and without its password */
    {
        size_t n_enc;
        unsigned char *enc = slurp(p_key_enc, &n_enc);
        CHECK(enc != NULL);
        if (enc) {
            memset(&so, 0, sizeof so);
            so.cert = crt, so.key = enc, so.key_password = "secret";
            CHECK_INT(ws_tls_config_init(&stc, 1, &so), 0);
            ws_tls_config_free(&stc);
            so.key_password = NULL;
            CHECK_INT(ws_tls_config_init(&stc, 1, &so), WS_E_TLS);
            CHECK_PREFIX(ws_tls_config_reason(&stc), "could not load the private key: ");
            CHECK_HAS(ws_tls_config_reason(&stc), "password");
            free(enc);
        }
    }

    /* a bundle in which one certificate cannot be parsed: the good one is
     * trusted */
    {
        static const char bad[] = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";
        size_t nb = strlen(bad);
        char *bundle = (char *)malloc(nb + n_ca + 1);
        if (bundle) {
            memcpy(bundle, bad, nb), memcpy(bundle + nb, ca, n_ca + 1);
            mbedtls_x509_crt probe;
            mbedtls_x509_crt_init(&probe);
            /* (mbedTLS counts the certificate it could not parse) */
            CHECK_INT(mbedtls_x509_crt_parse(&probe, (const unsigned char *)bundle, nb + n_ca + 1), 1);
            mbedtls_x509_crt_free(&probe);
            memset(&so, 0, sizeof so), memset(&co, 0, sizeof co);
            so.cert_file = p_crt, so.key_file = p_key;
            co.ca = bundle;
            CHECK_INT(ws_tls_config_init(&stc, 1, &so), 0);
            CHECK_INT(ws_tls_config_init(&ctc, 0, &co), 0);
            CHECK(session_ok(&stc, &ctc, "localhost"));
            ws_tls_config_free(&stc), ws_tls_config_free(&ctc);
            /* ... and a bundle of nothing but that */
            co.ca = bad;
            CHECK_INT(ws_tls_config_init(&ctc, 0, &co), WS_E_TLS);
            CHECK_PREFIX(ws_tls_config_reason(&ctc), "could not load the trusted CA certificates: ");
            free(bundle);
        }
    }
out:
    free(ca), free(ca_der), free(crt), free(crt_der), free(key), free(key_der);
}

/* Without a CA of its own a client reads the first system bundle there is. */
static void test_config_system_bundle(void) {
    ws_tls_config tc;
    faults_off();
    fault_arm(&f_parse_file, 0, -1, 0);
    CHECK_INT(ws_tls_config_init(&tc, 0, NULL), WS_E_TLS);
    CHECK_STR(ws_tls_config_reason(&tc),
              "no trusted CA certificates: no system bundle found, set ws_tls_options.ca_file");
    CHECK_INT(parsed_count, 3);
    CHECK_STR(parsed_paths[0], "/etc/ssl/certs/ca-certificates.crt");
    CHECK_STR(parsed_paths[1], "/etc/pki/tls/certs/ca-bundle.crt");
    CHECK_STR(parsed_paths[2], "/etc/ssl/cert.pem");
    /* the first is missing, the second is read */
    faults_off();
    fault_arm(&f_parse_file, 0, 1, 0);
    bundle_redirect = p_ca;
    CHECK_INT(ws_tls_config_init(&tc, 0, NULL), 0);
    CHECK_INT(parsed_count, 2);
    CHECK_STR(parsed_paths[1], "/etc/pki/tls/certs/ca-bundle.crt");
    ws_tls_config_free(&tc);
    faults_off();
}

/* ---- ws_tls_init ---- */
static ws_tls_config g_ctc, g_stc, g_insecure, g_other; /* client (test CA), server, insecure, other CA */

static void test_init_errors(void) {
    ws_tls t;
    char longname[300];
    /* a verifying client needs a name */
    CHECK_INT(ws_tls_init(&t, &g_ctc, -1, NULL), WS_E_INVALID);
    CHECK_STR(ws_tls_reason(&t), "a TLS client needs the server's name to verify it");
    CHECK_INT(ws_tls_init(&t, &g_ctc, -1, ""), WS_E_INVALID);
    ws_tls_free(&t); /* already freed: harmless */
    /* ... an insecure one does not */
    CHECK_INT(ws_tls_init(&t, &g_insecure, -1, NULL), 0);
    CHECK_INT(ws_tls_fd(&t), -1);
    CHECK_STR(ws_tls_reason(&t), "");
    ws_tls_free(&t);
    /* a name longer than the session keeps */
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK_INT(ws_tls_init(&t, &g_ctc, 7, longname), WS_E_INVALID);
    CHECK_STR(ws_tls_reason(&t), "server name too long");
    longname[255] = '\0';
    CHECK_INT(ws_tls_init(&t, &g_ctc, 7, longname), 0);
    CHECK_INT(ws_tls_fd(&t), 7);
    ws_tls_free(&t);
    /* mbedTLS refuses the name */
    fault_arm(&f_set_hostname, 0, 1, 0);
    CHECK_INT(ws_tls_init(&t, &g_ctc, -1, "localhost"), WS_E_INVALID);
    CHECK_PREFIX(ws_tls_reason(&t), "invalid server name: SSL - Bad input parameters to function (-0x7100)");
    /* the session cannot be set up */
    fault_arm(&f_ssl_setup, 0, 1, 0);
    CHECK_INT(ws_tls_init(&t, &g_stc, -1, NULL), WS_E_TLS);
    CHECK_STR(ws_tls_reason(&t), "TLS session setup failed: SSL - Memory allocation failed (-0x7f00)");
    faults_off();
}

/* IP literals are recognised (and checked against the certificate's
 * addresses, not sent as SNI); anything else is a host name. */
static void test_ip_names(void) {
    static const struct {
        const char *name;
        int len;
        unsigned char ip[16];
    } cases[] = {
        {"127.0.0.1", 4, {127, 0, 0, 1}},
        {"0.0.0.0", 4, {0}},
        {"255.255.255.255", 4, {255, 255, 255, 255}},
        {"::1", 16, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
        {"::", 16, {0}},
        {"1::", 16, {0, 1}},
        {"fe80::1:2", 16, {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2}},
        {"2001:DB8:0:0:0:0:0:ff", 16, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff}},
        {"1:2:3:4:5:6:7::", 16, {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0}},
        {"::2:3:4:5:6:7:8", 16, {0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8}},
        {"localhost", 0, {0}},
        {"1.2.3", 0, {0}},
        {"1.2.3.4.5", 0, {0}},
        {"256.1.1.1", 0, {0}},
        {"1.2.3.0001", 0, {0}},
        {"1..2.3", 0, {0}},
        {"1:2:3:4:5:6:7:8:9", 0, {0}},
        {"1:2:3:4:5:6:7", 0, {0}},
        {"1::2::3", 0, {0}},
        {"1:", 0, {0}},
        {":1", 0, {0}},
        {"1:::2", 0, {0}},
        {"12345::", 0, {0}},
        {"g::1", 0, {0}},
        {"::1:2:3:4:5:6:7:8", 0, {0}},
        {"1:2:3:4:5:6:7:8::", 0, {0}},
        {"fe80::1%eth0", 0, {0}},
        {"::ffff:1.2.3.4", 0, {0}},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ws_tls t;
        int r = ws_tls_init(&t, &g_ctc, -1, cases[i].name);
        CHECK_INT(r, 0);
        if (r) continue;
        if (t.ip_len != cases[i].len || (cases[i].len && memcmp(t.ip, cases[i].ip, t.ip_len) != 0))
            printf("    name [%s]: ip_len %d\n", cases[i].name, t.ip_len);
        CHECK_INT(t.ip_len, cases[i].len);
        if (cases[i].len) CHECK(memcmp(t.ip, cases[i].ip, (size_t)cases[i].len) == 0);
        ws_tls_free(&t);
    }
}

/* ---- sessions over a socketpair ---- */
typedef struct sess {
    int fd[2]; /* client's, server's */
    ws_tls ct, st;
    ws_conn cc, sc;
    ws_config ccfg, scfg;
    ev ce, se;
    int cgone, sgone; /* that end's session was freed by the test: pump it no more */
} sess;

static int set_nonblocking(int fd) { return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* Sets up both ends; the client (verifying `name`) starts its handshake. */
static int sess_start(sess *s, ws_tls_config *server, ws_tls_config *client, const char *name) {
    ws_client_options o;
    memset(s, 0, sizeof *s);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, s->fd) != 0) return -1;
    (void)set_nonblocking(s->fd[0]), (void)set_nonblocking(s->fd[1]);
    s->ccfg = mkcfg(), s->scfg = mkcfg();
    if (ws_tls_init(&s->ct, client, s->fd[0], name) != 0) return -1;
    if (ws_tls_init(&s->st, server, s->fd[1], NULL) != 0) return -1;
    ws_tls_conn_init(&s->cc, &s->ccfg, &s->ct);
    ws_tls_conn_init(&s->sc, &s->scfg, &s->st);
    s->cc.user = &s->ce, s->sc.user = &s->se;
    memset(&o, 0, sizeof o);
    o.host = "localhost", o.path = "/tls";
    if (ws_client_start(&s->cc, &o) != 0) return -1;
    return ws_server_start(&s->sc);
}

static void sess_step(sess *s) {
    struct pollfd p[2];
    if (!s->cgone && s->cc.state != WS_CLOSED) (void)ws_pump(&s->cc);
    if (!s->sgone && s->sc.state != WS_CLOSED) (void)ws_pump(&s->sc);
    if (!s->sgone && s->sc.state == WS_CLOSED) {
        /* a server closes the transport once CLOSED (the client waits for it) */
        ws_tls_free(&s->st);
        close(s->fd[1]);
        s->fd[1] = -1, s->sgone = 1;
    }
    p[0].fd = s->fd[0], p[1].fd = s->fd[1];
    p[0].events = p[1].events = POLLIN, p[0].revents = p[1].revents = 0;
    (void)__real_poll(p, 2, 2);
}

#define DRIVE(s, cond)                                                                             \
    do {                                                                                           \
        int drive_;                                                                                \
        for (drive_ = 0; drive_ < 3000 && !(cond); drive_++) sess_step(s);                         \
    } while (0)

static void sess_end(sess *s) {
    faults_off();
    ws_tls_free(&s->ct), ws_tls_free(&s->st);
    ws_conn_release(&s->cc), ws_conn_release(&s->sc);
    if (s->fd[0] >= 0) close(s->fd[0]);
    if (s->fd[1] >= 0) close(s->fd[1]);
    s->fd[0] = s->fd[1] = -1;
}

static int sess_open(sess *s, ws_tls_config *server, ws_tls_config *client, const char *name) {
    if (sess_start(s, server, client, name) != 0) return 0;
    DRIVE(s, (s->ce.opened && s->se.opened) || s->ce.closes || s->se.closes);
    return s->ce.opened && s->se.opened;
}

static int session_ok(ws_tls_config *server, ws_tls_config *client, const char *name) {
    sess s;
    int ok = sess_open(&s, server, client, name);
    if (!ok) printf("    session with [%s]: %s / %s\n", name, s.ce.error, s.se.error);
    sess_end(&s);
    return ok;
}

static void test_session_echo(void) {
    static sess s;
    size_t n = 100000, i;
    unsigned char *big = (unsigned char *)malloc(n);
    unsigned long want = 0;
    if (!big) return;
    for (i = 0; i < n; i++) big[i] = (unsigned char)('e' + i % 7u), want += big[i];
    CHECK(sess_open(&s, &g_stc, &g_ctc, "localhost"));
    CHECK_INT(ws_tls_conn_fd(&s.cc), s.fd[0]);
    CHECK_INT(ws_conn_fd(&s.sc), s.fd[1]);
    CHECK_INT(ws_tls_wants_write(&s.cc), 0);
    /* both directions, small and larger than a TLS record */
    CHECK_INT(ws_send_text(&s.cc, "echo me"), 0);
    DRIVE(&s, s.ce.messages == 1);
    CHECK_STR(s.ce.last, "echo me");
    CHECK_INT(ws_send_binary(&s.cc, big, n), 0);
    DRIVE(&s, s.ce.messages == 2);
    CHECK_INT(s.ce.last_len, n);
    CHECK_INT(s.se.sum, want + 'e' + 'c' + 'h' + 'o' + ' ' + 'm' + 'e');
    CHECK_INT(s.ce.sum, s.se.sum);
    /* several small frames from the server at once are gathered */
    for (i = 0; i < 40; i++) CHECK_INT(ws_send_text(&s.sc, "x"), 0);
    DRIVE(&s, s.ce.messages == 42);
    CHECK_INT(s.ce.messages, 42);
    /* a vectored send with an empty piece: skipped */
    {
        ws_iovec v[4];
        v[0].base = "\x81\x02", v[0].len = 2, v[1].base = "", v[1].len = 0;
        v[2].base = "hi", v[2].len = 2, v[3].base = NULL, v[3].len = 0;
        CHECK_INT(ws_tls_io()->sendv(&s.st, v, 4), 4);
        DRIVE(&s, s.ce.messages == 43);
        CHECK_STR(s.ce.last, "hi");
    }
    /* random bytes from the configuration's generator, more than one
     * request of it */
    {
        unsigned char r[3000];
        memset(r, 0, sizeof r);
        CHECK_INT(ws_tls_random(&s.ct, r, sizeof r), 0);
        CHECK(r[0] | r[1] | r[2] | r[3]);
        CHECK(r[2996] | r[2997] | r[2998] | r[2999]);
    }
    CHECK_INT(ws_close(&s.cc, 1000, "bye"), 0);
    DRIVE(&s, s.ce.closes && s.se.closes);
    CHECK_INT(s.se.close_code, 1000);
    CHECK_STR(s.se.close_reason, "bye");
    CHECK_INT(s.ce.close_code, 1000); /* after the server's TCP close */
    CHECK_INT(s.ce.errors + s.se.errors, 0);
    sess_end(&s);
    free(big);
}

/* The client ends its TLS session (close_notify) without a close frame:
 * the server hears a clean end of stream: 1006, no error. */
static void test_close_notify(void) {
    static sess s;
    CHECK(sess_open(&s, &g_stc, &g_ctc, "localhost"));
    ws_tls_free(&s.ct);
    s.cgone = 1;
    DRIVE(&s, s.se.closes);
    CHECK_INT(s.se.closes, 1);
    CHECK_INT(s.se.close_code, 1006);
    CHECK_INT(s.se.errors, 0);
    sess_end(&s);
}

/* The certificate is not trusted, or not for the name asked for. */
static void test_verify_failures(void) {
    static sess s;
    static const struct {
        const char *name, *why;
    } good[] = {{"localhost", ""}, {"127.0.0.1", ""}, {"::1", ""}, {"0:0:0:0:0:0:0:1", ""}},
      bad[] = {{"example.com", "The certificate Common Name (CN) does not match with the expected CN"},
               {"127.0.0.2", "The certificate Common Name (CN) does not match with the expected CN"},
               {"::2", "The certificate Common Name (CN) does not match with the expected CN"}};
    size_t i;

    CHECK(!sess_open(&s, &g_stc, &g_other, "localhost"));
    CHECK_INT(s.ce.errors, 1);
    CHECK_INT(s.ce.last_err, WS_E_TLS);
    CHECK_STR(s.ce.error, "TLS certificate verification failed for localhost: The certificate is not correctly "
                          "signed by the trusted CA");
    CHECK_STR(ws_reason(&s.cc), s.ce.error);
    CHECK_INT(s.ce.closes, 1);
    CHECK_INT(s.ce.close_code, 1006);
    CHECK_STR(s.ce.close_reason, s.ce.error);
    CHECK_STR(ws_tls_reason(&s.ct), s.ce.error);
    /* the server hears the client's alert */
    DRIVE(&s, s.se.closes);
    CHECK_INT(s.se.last_err, WS_E_TLS);
    CHECK_PREFIX(s.se.error, "TLS handshake failed: SSL - A fatal alert message was received from our peer");
    CHECK_INT(s.se.close_code, 1006);
    /* a failed session answers nothing more */
    {
        char b[8];
        CHECK_INT(ws_tls_recv(&s.ct, b, sizeof b), WS_E_TLS);
        CHECK_INT(ws_tls_send(&s.ct, "x", 1), WS_E_TLS);
        /* (from here on the engine's answer) */
        CHECK_INT(ws_tls_wants_write(&s.cc), ws_wants_write(&s.cc));
    }
    sess_end(&s);

    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        int ok = sess_open(&s, &g_stc, &g_ctc, good[i].name);
        if (!ok) printf("    name [%s]: %s\n", good[i].name, s.ce.error);
        CHECK(ok);
        sess_end(&s);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char want[256];
        CHECK(!sess_open(&s, &g_stc, &g_ctc, bad[i].name));
        snprintf(want, sizeof want, "TLS certificate verification failed for %s: %s", bad[i].name, bad[i].why);
        CHECK_STR(s.ce.error, want);
        sess_end(&s);
    }
}

/* A ws_tls used through a plain ws_conn_init: the engine hears a transport
 * failure, the text is in ws_tls_reason. */
static void test_unlinked(void) {
    static sess s;
    ws_client_options o;
    memset(&s, 0, sizeof s);
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, s.fd), 0);
    (void)set_nonblocking(s.fd[0]), (void)set_nonblocking(s.fd[1]);
    s.ccfg = mkcfg(), s.scfg = mkcfg();
    CHECK_INT(ws_tls_init(&s.ct, &g_other, s.fd[0], "localhost"), 0);
    CHECK_INT(ws_tls_init(&s.st, &g_stc, s.fd[1], NULL), 0);
    ws_conn_init(&s.cc, &s.ccfg, ws_tls_io(), &s.ct);
    ws_tls_conn_init(&s.sc, &s.scfg, &s.st);
    s.cc.user = &s.ce, s.sc.user = &s.se;
    memset(&o, 0, sizeof o);
    o.host = "localhost";
    CHECK_INT(ws_client_start(&s.cc, &o), 0);
    CHECK_INT(ws_server_start(&s.sc), 0);
    DRIVE(&s, s.ce.closes);
    CHECK_INT(s.ce.closes, 1);
    CHECK_INT(s.ce.last_err, WS_E_IO);
    CHECK_PREFIX(ws_tls_reason(&s.ct), "TLS certificate verification failed for localhost: ");
    sess_end(&s);
}

/* The peer leaves during the handshake, after reading the ClientHello
 * (end of stream) or before (a reset); or it is no TLS server at all. */
static void test_handshake_peer_gone(void) {
    static sess s;
    char b[4096];
    int unread;
    for (unread = 0; unread < 2; unread++) {
        CHECK_INT(sess_start(&s, &g_stc, &g_ctc, "localhost"), 0);
        (void)ws_pump(&s.cc); /* the ClientHello goes out */
        if (!unread) CHECK(__real_read(s.fd[1], b, sizeof b) > 0);
        ws_tls_free(&s.st);
        s.sgone = 1;
        close(s.fd[1]), s.fd[1] = -1;
        DRIVE(&s, s.ce.closes);
        CHECK_INT(s.ce.last_err, WS_E_TLS);
        CHECK_STR(s.ce.error, "TLS handshake failed: the peer closed the connection");
        CHECK_INT(s.ce.close_code, 1006);
        sess_end(&s);
    }
    /* an HTTP server */
    CHECK_INT(sess_start(&s, &g_stc, &g_ctc, "localhost"), 0);
    (void)ws_pump(&s.cc);
    CHECK(__real_read(s.fd[1], b, sizeof b) > 0);
    {
        static const char http[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        CHECK_INT(__real_send(s.fd[1], http, sizeof http - 1, 0), (long)sizeof http - 1);
    }
    ws_tls_free(&s.st);
    s.sgone = 1; /* (the server end is played by hand here) */
    DRIVE(&s, s.ce.closes);
    CHECK_INT(s.ce.last_err, WS_E_TLS);
    CHECK_PREFIX(s.ce.error, "TLS handshake failed: SSL - ");
    CHECK_HAS(s.ce.error, "(-0x");
    sess_end(&s);
}

/* The socket under mbedTLS: interruptions are retried, "would block" waits,
 * failures are reported with their text. */
static void test_bio(void) {
    static sess s;
    /* every other read and send interrupted through the handshake and a
     * message */
    CHECK_INT(sess_start(&s, &g_stc, &g_ctc, "localhost"), 0);
    fault_arm(&f_read, 0, -1, EINTR), f_read.every = 1;
    fault_arm(&f_send, 0, -1, EINTR), f_send.every = 1;
    DRIVE(&s, s.ce.opened && s.se.opened);
    CHECK(s.ce.opened && s.se.opened);
    CHECK_INT(ws_send_text(&s.cc, "echo interrupted"), 0);
    DRIVE(&s, s.ce.messages == 1);
    CHECK_STR(s.ce.last, "echo interrupted");
    CHECK(f_read.failed > 0 && f_send.failed > 0);
    sess_end(&s);

    /* the ClientHello would block: the client waits for writability */
    CHECK_INT(sess_start(&s, &g_stc, &g_ctc, "localhost"), 0);
    fault_arm(&f_send, 0, -1, EAGAIN);
    (void)ws_pump(&s.cc);
    CHECK(f_send.failed >= 1);
    CHECK_INT(ws_tls_wants_write(&s.cc), 1);
    CHECK_INT(ws_tls_wants_write(&s.sc), 0);
    CHECK_INT(s.ce.errors, 0);
    fault_reset(&f_send);
    (void)ws_pump(&s.cc);
    CHECK_INT(ws_tls_wants_write(&s.cc), 0);
    DRIVE(&s, s.ce.opened && s.se.opened);
    CHECK(s.ce.opened && s.se.opened);
    sess_end(&s);

    /* reads fail during the handshake: reset, another error */
    CHECK_INT(sess_start(&s, &g_stc, &g_ctc, "localhost"), 0);
    fault_arm(&f_read, 0, -1, ECONNRESET);
    DRIVE(&s, s.ce.closes);
    CHECK_STR(s.ce.error, "TLS handshake failed: the peer closed the connection");
    sess_end(&s);
    CHECK_INT(sess_start(&s, &g_stc, &g_ctc, "localhost"), 0);
    fault_arm(&f_read, 0, -1, EIO);
    DRIVE(&s, s.ce.closes);
    CHECK_STR(s.ce.error, "TLS handshake failed: NET - Reading information from the socket failed (-0x004c)");
    sess_end(&s);
    /* sends fail during the handshake: the peer is gone, another error */
    CHECK_INT(sess_start(&s, &g_stc, &g_ctc, "localhost"), 0);
    fault_arm(&f_send, 0, -1, EPIPE);
    DRIVE(&s, s.ce.closes);
    CHECK_STR(s.ce.error, "TLS handshake failed: the peer closed the connection");
    sess_end(&s);
    CHECK_INT(sess_start(&s, &g_stc, &g_ctc, "localhost"), 0);
    fault_arm(&f_send, 0, -1, ENOBUFS);
    DRIVE(&s, s.ce.closes);
    CHECK_STR(s.ce.error, "TLS handshake failed: NET - Sending information through the socket failed (-0x004e)");
    sess_end(&s);
}

/* Failures once the session is up. */
static void test_session_failures(void) {
    static sess s;
    /* a read fails right after a message: the message is delivered, then
     * the failure reported */
    CHECK(sess_open(&s, &g_stc, &g_ctc, "localhost"));
    CHECK_INT(ws_send_text(&s.sc, "before the failure"), 0);
    CHECK_INT(ws_flush(&s.sc), 0);
    read_again_err = EIO;
    {
        int i;
        for (i = 0; i < 2000 && !s.ce.messages && !s.ce.closes; i++) {
            struct pollfd p;
            p.fd = s.fd[0], p.events = POLLIN, p.revents = 0;
            (void)__real_poll(&p, 1, 5);
            if (p.revents) (void)ws_pump(&s.cc);
        }
    }
    CHECK_INT(s.ce.messages, 1);
    CHECK_STR(s.ce.last, "before the failure");
    (void)ws_pump(&s.cc);
    CHECK_INT(s.ce.closes, 1);
    CHECK_INT(s.ce.last_err, WS_E_TLS);
    CHECK_STR(s.ce.error, "TLS receive failed: NET - Reading information from the socket failed (-0x004c)");
    sess_end(&s);

    /* a reset after the handshake */
    CHECK(sess_open(&s, &g_stc, &g_ctc, "localhost"));
    fault_arm(&f_read, 0, -1, ECONNRESET);
    DRIVE(&s, s.ce.closes);
    CHECK_STR(s.ce.error, "TLS receive failed: the peer closed the connection");
    sess_end(&s);

    /* a send fails */
    CHECK(sess_open(&s, &g_stc, &g_ctc, "localhost"));
    fault_arm(&f_send, 0, -1, EIO);
    (void)ws_send_text(&s.cc, "never sent");
    DRIVE(&s, s.ce.closes);
    CHECK_INT(s.ce.last_err, WS_E_TLS);
    CHECK_STR(s.ce.error, "TLS send failed: NET - Sending information through the socket failed (-0x004e)");
    CHECK_INT(s.ce.close_code, 1006);
    sess_end(&s);

    /* a send fails after the first record of a message went: what went is
     * counted, the failure comes with the next attempt */
    CHECK(sess_open(&s, &g_stc, &g_ctc, "localhost"));
    {
        static unsigned char big[40000];
        memset(big, 'e', sizeof big);
        fault_arm(&f_send, 1, -1, EPIPE);
        (void)ws_send_binary(&s.cc, big, sizeof big);
        DRIVE(&s, s.ce.closes);
        CHECK(f_send.calls >= 2);
        CHECK_STR(s.ce.error, "TLS send failed: the peer closed the connection");
        CHECK_INT(s.se.messages, 0);
    }
    sess_end(&s);
}

/* The server asks for a renegotiation; the client refuses with a warning
 * alert, which mbedTLS queues itself when the socket is full. That record
 * must go out before the next write. */
#if MBEDTLS_VERSION_NUMBER < 0x03000000
static void test_queued_alert(void) {
    static sess s;
    int fail;
    mbedtls_ssl_conf_renegotiation(&g_stc.conf, MBEDTLS_SSL_RENEGOTIATION_ENABLED);
    for (fail = 0; fail < 2; fail++) {
        CHECK(sess_open(&s, &g_stc, &g_ctc, "localhost"));
        CHECK_INT(mbedtls_ssl_renegotiate(&s.st.ssl), 0);
        fault_arm(&f_send, 0, -1, EAGAIN);
        {
            int i;
            for (i = 0; i < 2000 && !f_send.failed; i++) {
                struct pollfd p;
                p.fd = s.fd[0], p.events = POLLIN, p.revents = 0;
                (void)__real_poll(&p, 1, 5);
                (void)ws_pump(&s.cc);
            }
        }
        CHECK_INT(f_send.failed, 1); /* the alert would block */
        CHECK(s.ct.ssl.out_left > 0);
        CHECK_INT(ws_send_text(&s.cc, "echo after the alert"), 0);
        CHECK(ws_buffered_amount(&s.cc) > 0); /* still behind the alert */
        CHECK_INT(ws_tls_send(&s.ct, "", 0), WS_E_AGAIN);
        if (!fail) {
            fault_reset(&f_send);
            DRIVE(&s, s.ce.messages == 1);
            CHECK_INT(s.se.messages, 1);
            CHECK_STR(s.ce.last, "echo after the alert");
            CHECK_INT(s.ce.errors + s.se.errors, 0);
        } else {
            fault_arm(&f_send, 0, -1, EIO);
            DRIVE(&s, s.ce.closes);
            CHECK_STR(s.ce.error, "TLS send failed: NET - Sending information through the socket failed (-0x004e)");
            CHECK_INT(s.se.messages, 0);
        }
        sess_end(&s);
    }
    mbedtls_ssl_conf_renegotiation(&g_stc.conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
}
#else
static void test_queued_alert(void) {} /* 3.x: no such path in the adapter */
#endif

/* ---- ws_connect_url_tls, ws_tls_poll, ws_tls_disconnect over TCP ---- */
static int allocs_left = -1; /* -1: no limit */
static void *limited_realloc(void *u, void *p, size_t n) {
    (void)u;
    if (n) {
        if (allocs_left == 0) return NULL;
        if (allocs_left > 0) allocs_left--;
    }
    return ws_libc_realloc(NULL, p, n);
}

typedef struct tcp {
    int l, a;
    unsigned port;
    ws_conn c, sc;
    ws_tls st;
    ws_config cfg, scfg;
    ev ce, se;
} tcp;

static int tcp_listen(tcp *t) {
    memset(t, 0, sizeof *t);
    t->a = -1;
    t->cfg = mkcfg(), t->scfg = mkcfg();
    t->cfg.realloc_fn = limited_realloc;
    t->l = ws_tcp_listen("127.0.0.1", 0, 8);
    if (t->l < 0) return -1;
    t->port = local_port(t->l);
    return 0;
}

/* Accepts the client's connection and serves TLS on it. */
static int tcp_serve(tcp *t) {
    t->a = accept_one(t->l);
    if (t->a < 0) return -1;
    if (ws_tls_init(&t->st, &g_stc, t->a, NULL) != 0) return -1;
    ws_tls_conn_init(&t->sc, &t->scfg, &t->st);
    t->sc.user = &t->se;
    return ws_server_start(&t->sc);
}

#define TCP_DRIVE(t, cond)                                                                         \
    do {                                                                                           \
        int drive_;                                                                                \
        for (drive_ = 0; drive_ < 3000 && !(cond); drive_++) {                                     \
            if ((t)->c.state != WS_CLOSED) (void)ws_tls_poll(&(t)->c, 2);                          \
            if ((t)->a >= 0 && (t)->sc.state != WS_CLOSED) (void)ws_pump(&(t)->sc);                \
        }                                                                                          \
    } while (0)

static void tcp_end(tcp *t) {
    faults_off();
    if (t->c.io) ws_tls_disconnect(&t->c);
    if (t->a >= 0) {
        ws_tls_free(&t->st);
        ws_conn_release(&t->sc);
        close(t->a);
    }
    if (t->l >= 0) close(t->l);
    allocs_left = -1;
}

static void test_connect_url_tls(void) {
    static tcp t;
    char url[128];
    ws_tls_options o;
    memset(&o, 0, sizeof o);
    o.ca_file = p_ca;

    /* wss:// to 127.0.0.1 (an address: checked against the certificate's
     * addresses), echo, then the client leaves without a close frame */
    CHECK_INT(tcp_listen(&t), 0);
    snprintf(url, sizeof url, "wss://127.0.0.1:%u/chat?room=1", t.port);
    CHECK_INT(ws_connect_url_tls(&t.c, &t.cfg, url, NULL, &o), 0);
    t.c.user = &t.ce;
    CHECK(ws_conn_fd(&t.c) >= 0);
    CHECK_INT(ws_conn_fd(&t.c), ws_tls_conn_fd(&t.c));
    CHECK_INT(tcp_serve(&t), 0);
    TCP_DRIVE(&t, t.ce.opened && t.se.opened);
    CHECK(t.ce.opened && t.se.opened);
    CHECK_INT(ws_send_text(&t.c, "echo over tcp"), 0);
    TCP_DRIVE(&t, t.ce.messages);
    CHECK_STR(t.ce.last, "echo over tcp");
    /* ws_poll hands a TLS connection to ws_tls_poll */
    CHECK_INT(ws_poll(&t.c, 0), 0);
    /* poll interrupted: the pump runs; poll failing: the connection is dead */
    fault_arm(&f_poll, 0, 1, EINTR);
    CHECK_INT(ws_tls_poll(&t.c, 1000), 0);
    CHECK_INT(f_poll.calls, 1);
    CHECK_INT(t.ce.errors, 0);
    fault_arm(&f_poll, 0, 1, ENOMEM);
    CHECK_INT(ws_tls_poll(&t.c, 1000), WS_E_CLOSED);
    faults_off();
    CHECK_INT(t.ce.errors, 1);
    CHECK_INT(t.ce.last_err, WS_E_IO);
    CHECK_STR(t.ce.error, "poll failed");
    CHECK_INT(t.ce.closes, 1);
    CHECK_INT(t.ce.close_code, 1006);
    CHECK_INT(ws_tls_poll(&t.c, 0), WS_E_CLOSED);
    /* ws_disconnect hands it to ws_tls_disconnect: TLS state freed,
     * close_notify sent, the server hears a clean end */
    ws_disconnect(&t.c);
    CHECK(t.c.io_user == NULL);
    CHECK_INT(ws_tls_conn_fd(&t.c), -1);
    CHECK_INT(t.ce.closes, 1);
    TCP_DRIVE(&t, t.se.closes);
    CHECK_INT(t.se.closes, 1);
    CHECK_INT(t.se.close_code, 1006);
    tcp_end(&t);

    /* ws_tls_disconnect on an open connection: on_close once, 1006 */
    CHECK_INT(tcp_listen(&t), 0);
    snprintf(url, sizeof url, "wss://localhost:%u/", t.port);
    if (ws_connect_url_tls(&t.c, &t.cfg, url, NULL, &o) == 0) { /* localhost may be ::1 only */
        t.c.user = &t.ce;
        CHECK_INT(tcp_serve(&t), 0);
        TCP_DRIVE(&t, t.ce.opened && t.se.opened);
        CHECK(t.ce.opened);
        ws_tls_disconnect(&t.c);
        CHECK_INT(t.ce.closes, 1);
        CHECK_INT(t.ce.close_code, 1006);
        CHECK_INT(ws_state(&t.c), WS_CLOSED);
        ws_tls_disconnect(&t.c); /* again: nothing */
        CHECK_INT(t.ce.closes, 1);
    }
    tcp_end(&t);

    /* the certificate is not trusted: after ws_tls_disconnect (which frees
     * the session holding the text) the reason is a fixed text */
    CHECK_INT(tcp_listen(&t), 0);
    snprintf(url, sizeof url, "wss://127.0.0.1:%u/", t.port);
    o.ca_file = p_other;
    CHECK_INT(ws_connect_url_tls(&t.c, &t.cfg, url, NULL, &o), 0);
    o.ca_file = p_ca;
    t.c.user = &t.ce;
    CHECK_INT(tcp_serve(&t), 0);
    TCP_DRIVE(&t, t.ce.closes);
    CHECK_PREFIX(ws_reason(&t.c), "TLS certificate verification failed for 127.0.0.1: ");
    ws_tls_disconnect(&t.c);
    CHECK_STR(ws_reason(&t.c), "TLS error");
    tcp_end(&t);

    /* ws_connect_url with wss:// and the system CAs (here: the test CA) */
    CHECK_INT(tcp_listen(&t), 0);
    snprintf(url, sizeof url, "wss://127.0.0.1:%u/", t.port);
    bundle_redirect = p_ca;
    CHECK_INT(ws_connect_url(&t.c, &t.cfg, url, NULL), 0);
    CHECK_STR(parsed_paths[0], "/etc/ssl/certs/ca-certificates.crt");
    bundle_redirect = NULL;
    t.c.user = &t.ce;
    CHECK_INT(tcp_serve(&t), 0);
    TCP_DRIVE(&t, t.ce.opened && t.se.opened);
    CHECK(t.ce.opened && t.se.opened);
    tcp_end(&t);

    /* ws:// through ws_connect_url_tls: a plain connection, which
     * ws_tls_poll, ws_tls_wants_write and ws_tls_disconnect also take */
    CHECK_INT(tcp_listen(&t), 0);
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/", t.port);
    CHECK_INT(ws_connect_url_tls(&t.c, &t.cfg, url, NULL, &o), 0);
    t.c.user = &t.ce;
    CHECK(t.c.io == ws_posix_io());
    CHECK_INT(ws_tls_conn_fd(&t.c), ws_conn_fd(&t.c));
    CHECK_INT(ws_tls_poll(&t.c, 0), 0);
    CHECK_INT(ws_tls_wants_write(&t.c), ws_wants_write(&t.c));
    ws_tls_disconnect(&t.c);
    CHECK_INT(t.ce.closes, 1);
    CHECK_INT(ws_conn_fd(&t.c), -1);
    tcp_end(&t);

    /* a TLS connection without its session */
    {
        ws_conn c;
        ws_config cfg = mkcfg();
        ev e;
        memset(&e, 0, sizeof e);
        ws_conn_init(&c, &cfg, ws_tls_io(), NULL);
        c.user = &e;
        CHECK_INT(ws_tls_poll(&c, 0), WS_E_CLOSED);
        CHECK_INT(ws_tls_conn_fd(&c), -1);
        CHECK_INT(ws_tls_wants_write(&c), 0);
        ws_tls_disconnect(&c);
        CHECK_INT(e.closes, 1);
    }
}

static void test_connect_url_tls_errors(void) {
    static tcp t;
    char url[400];
    ws_tls_options o;
    ws_client_options co;
    int a;
    memset(&o, 0, sizeof o);
    o.ca_file = p_ca;
    CHECK_INT(tcp_listen(&t), 0);

    CHECK_INT(ws_connect_url_tls(&t.c, &t.cfg, "https://127.0.0.1/", NULL, &o), WS_E_URL);
    memcpy(url, "wss://", 6);
    memset(url + 6, 'a', 300);
    strcpy(url + 306, "/");
    CHECK_INT(ws_connect_url_tls(&t.c, &t.cfg, url, NULL, &o), WS_E_URL);

    snprintf(url, sizeof url, "wss://127.0.0.1:%u/p", t.port);
    /* no memory for the TLS state */
    allocs_left = 0;
    CHECK_INT(ws_connect_url_tls(&t.c, &t.cfg, url, NULL, &o), WS_E_NOMEM);
    allocs_left = -1;

    /* a CA file that cannot be read: no connection made */
    memset(&orphan, 0, sizeof orphan);
    o.ca_file = "/nonexistent/ws-ca.crt";
    CHECK_INT(ws_connect_url_tls(&t.c, &t.cfg, url, NULL, &o), WS_E_TLS);
    o.ca_file = p_ca;
    CHECK_INT(orphan.errors, 1);
    CHECK_INT(orphan.last_err, WS_E_TLS);
    CHECK_PREFIX(orphan.error, "could not load the trusted CA certificates from /nonexistent/ws-ca.crt: ");
    CHECK_INT(orphan.closes, 0);
    CHECK_STR(ws_reason(&t.c), "TLS setup failed");
    CHECK_INT(ws_tcp_accept(t.l), WS_E_AGAIN);

    /* ws_client_options.user is c->user before anything calls back */
    {
        ev mine;
        ws_client_options uo;
        memset(&mine, 0, sizeof mine);
        memset(&orphan, 0, sizeof orphan);
        memset(&uo, 0, sizeof uo);
        uo.user = &mine;
        o.ca_file = "/nonexistent/ws-ca.crt";
        CHECK_INT(ws_connect_url_tls(&t.c, &t.cfg, url, &uo, &o), WS_E_TLS);
        o.ca_file = p_ca;
        CHECK_INT(mine.errors, 1);
        CHECK_INT(orphan.errors, 0);
        CHECK(t.c.user == &mine);
    }

    /* refused */
    {
        int l2 = ws_tcp_listen("127.0.0.1", 0, 1);
        char u2[64];
        CHECK(l2 >= 0);
        snprintf(u2, sizeof u2, "wss://127.0.0.1:%u/", local_port(l2));
        close(l2);
        CHECK_INT(ws_connect_url_tls(&t.c, &t.cfg, u2, NULL, &o), WS_E_CONNECT);
    }

    /* the session cannot be set up: the socket is closed again */
    memset(&orphan, 0, sizeof orphan);
    fault_arm(&f_ssl_setup, 0, 1, 0);
    CHECK_INT(ws_connect_url_tls(&t.c, &t.cfg, url, NULL, &o), WS_E_TLS);
    faults_off();
    CHECK_INT(orphan.errors, 1);
    CHECK_STR(orphan.error, "TLS session setup failed: SSL - Memory allocation failed (-0x7f00)");
    CHECK_STR(ws_reason(&t.c), "TLS setup failed");
    a = accept_one(t.l);
    CHECK(a >= 0);
    if (a >= 0) CHECK(peer_closed(a)), close(a);

    /* no memory for the path, then none for the handshake's buffers */
    allocs_left = 1;
    CHECK_INT(ws_connect_url_tls(&t.c, &t.cfg, url, NULL, &o), WS_E_NOMEM);
    CHECK(t.c.io_user == NULL);
    a = accept_one(t.l);
    CHECK(a >= 0);
    if (a >= 0) CHECK(peer_closed(a)), close(a);
    allocs_left = 2;
    CHECK_INT(ws_connect_url_tls(&t.c, &t.cfg, url, NULL, &o), WS_E_NOMEM);
    a = accept_one(t.l);
    if (a >= 0) CHECK(peer_closed(a)), close(a);
    allocs_left = -1;

    /* the request cannot be built */
    memset(&co, 0, sizeof co);
    co.origin = "https://x\r\nEvil: 1";
    CHECK_INT(ws_connect_url_tls(&t.c, &t.cfg, url, &co, &o), WS_E_INVALID);
    CHECK(t.c.io_user == NULL);
    a = accept_one(t.l);
    if (a >= 0) CHECK(peer_closed(a)), close(a);

    memset(&t.c, 0, sizeof t.c);
    tcp_end(&t);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
/* Runs a test; says so when one takes long (everything here is local). */
#define RUN(test)                                                                                  \
    do {                                                                                           \
        double t0_ = now_s(), dt_;                                                                 \
        test();                                                                                    \
        dt_ = now_s() - t0_;                                                                       \
        if (dt_ > 1.0) printf("note: " #test " took %.1f s\n", dt_);                               \
    } while (0)

int main(void) {
    ws_tls_options o;
    int r;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (make_certs() != 0) {
        remove_certs();
        test_failed++;
        return test_report();
    }
    memset(&o, 0, sizeof o);
    o.ca_file = p_ca;
    r = ws_tls_config_init(&g_ctc, 0, &o);
    CHECK_INT(r, 0);
    o.ca_file = p_other;
    r |= ws_tls_config_init(&g_other, 0, &o);
    memset(&o, 0, sizeof o);
    o.insecure_skip_verify = 1;
    r |= ws_tls_config_init(&g_insecure, 0, &o);
    memset(&o, 0, sizeof o);
    o.cert_file = p_crt, o.key_file = p_key;
    r |= ws_tls_config_init(&g_stc, 1, &o);
    CHECK_INT(r, 0);
    if (r == 0) {
        RUN(test_config_errors);
        RUN(test_config_buffers);
        RUN(test_config_system_bundle);
        RUN(test_init_errors);
        RUN(test_ip_names);
        RUN(test_session_echo);
        RUN(test_close_notify);
        RUN(test_verify_failures);
        RUN(test_unlinked);
        RUN(test_handshake_peer_gone);
        RUN(test_bio);
        RUN(test_session_failures);
        RUN(test_queued_alert);
        RUN(test_connect_url_tls);
        RUN(test_connect_url_tls_errors);
    }
    faults_off();
    ws_tls_config_free(&g_ctc), ws_tls_config_free(&g_other);
    ws_tls_config_free(&g_insecure), ws_tls_config_free(&g_stc);
    remove_certs();
    return test_report();
}
