// agents/net.c: ZeroMQ helpers for the env server, learner and workers (net.h):
// socket options, envelopes, non-blocking send/receive, CURVE keys, a ZAP thread.
// Leaves out: GSSAPI/PLAIN mechanisms, IP allow-lists (ZAP sees addresses, unused).
#include "agents/net.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

// ---------------------------------------------------------------- endpoints

int lc_endpoint_is_local(const char *ep) {
    if (strncmp(ep, "ipc://", 6) == 0 || strncmp(ep, "inproc://", 9) == 0) return 1;
    if (strncmp(ep, "tcp://", 6) != 0) return 0;
    const char *h = ep + 6;
    // A "source;destination" form binds the part after ';' too: judge the whole.
    if (strchr(h, ';')) return 0;
    char host[256];
    const char *colon = strrchr(h, ':');
    size_t n = colon ? (size_t)(colon - h) : strlen(h);
    if (n == 0 || n >= sizeof host) return 0;
    memcpy(host, h, n);
    host[n] = '\0';
    if (strcmp(host, "localhost") == 0 || strcmp(host, "lo") == 0 || strcmp(host, "[::1]") == 0)
        return 1;
    unsigned a, b, c, d;
    char extra;
    if (sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) == 4)
        return a == 127 && b < 256 && c < 256 && d < 256;
    return 0;
}

int lc_net_check_bind(const char *endpoint, int allow_public, lc_error *err) {
    if (!endpoint || !*endpoint) return lc_fail(err, LC_ERR_ARG, "no endpoint to bind");
    if (lc_endpoint_is_local(endpoint) || allow_public) return LC_OK;
    return lc_fail(err, LC_ERR_ARG,
                   "%s is reachable from other machines: bind to tcp://127.0.0.1:PORT, or pass "
                   "--public (and use CURVE keys) to accept remote peers",
                   endpoint);
}

// ---------------------------------------------------------------- sockets

static int zfail(lc_error *err, const char *what) {
    return lc_fail(err, LC_ERR_NET, "%s: %s", what, zmq_strerror(zmq_errno()));
}

int lc_net_socket(void **out, void *ctx, int type, size_t max_frame, lc_error *err) {
    *out = NULL;
    void *s = zmq_socket(ctx, type);
    if (!s) return zfail(err, "zmq_socket");
    int linger = 0, hwm = 1000;
    int64_t maxsz = (int64_t)(max_frame ? max_frame : LC_PROTO_MAX_FRAME);
    if (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxsz, sizeof maxsz) != 0 ||
        zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0) {
        int rc = zfail(err, "zmq_setsockopt");
        zmq_close(s);
        return rc;
    }
    *out = s;
    return LC_OK;
}

void lc_net_close(void **sock) {
    if (*sock) zmq_close(*sock);
    *sock = NULL;
}

int lc_net_curve_server(void *sock, const char *secret, lc_error *err) {
    int one = 1;
    if (strlen(secret) != LC_CURVE_KEY_LEN)
        return lc_fail(err, LC_ERR_ARG, "a CURVE key is %d z85 characters", LC_CURVE_KEY_LEN);
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret, LC_CURVE_KEY_LEN + 1) != 0)
        return zfail(err, "CURVE server options");
    return LC_OK;
}

int lc_net_curve_client(void *sock, const char *server_public, const char *secret, lc_error *err) {
    char pub[LC_CURVE_KEY_LEN + 1];
    int rc = lc_curve_public_of(secret, pub, err);
    if (rc) return rc;
    if (strlen(server_public) != LC_CURVE_KEY_LEN)
        return lc_fail(err, LC_ERR_ARG, "a CURVE key is %d z85 characters", LC_CURVE_KEY_LEN);
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_public, LC_CURVE_KEY_LEN + 1) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub, LC_CURVE_KEY_LEN + 1) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret, LC_CURVE_KEY_LEN + 1) != 0)
        return zfail(err, "CURVE client options");
    return LC_OK;
}

// ---------------------------------------------------------------- messages

static int more(void *sock) {
    int m = 0;
    size_t sz = sizeof m;
    return zmq_getsockopt(sock, ZMQ_RCVMORE, &m, &sz) == 0 && m;
}

void lc_frames_close(lc_frames *f) {
    if (f->open) zmq_msg_close(&f->payload);
    f->open = 0;
}

const void *lc_frames_data(lc_frames *f) { return f->open ? zmq_msg_data(&f->payload) : NULL; }
size_t lc_frames_size(lc_frames *f) { return f->open ? zmq_msg_size(&f->payload) : 0; }

int lc_net_recv(void *sock, int router, lc_frames *f, int *got, lc_error *err) {
    memset(f, 0, sizeof *f);
    *got = 0;
    zmq_msg_t part;
    zmq_msg_init(&part);
    if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0) {
        int e = zmq_errno();
        zmq_msg_close(&part);
        if (e == EAGAIN || e == EINTR) return LC_OK;
        return lc_fail(err, LC_ERR_NET, "receive: %s", zmq_strerror(e));
    }
    *got = 1;
    int nparts = 0;       // frames after the identity
    size_t sizes[2] = {0, 0};
    for (int first = 1;; first = 0) {
        int has_more = more(sock);
        if (first && router) {
            size_t n = zmq_msg_size(&part);
            f->ident_len = n < sizeof f->ident ? n : sizeof f->ident;
            memcpy(f->ident, zmq_msg_data(&part), f->ident_len);
            zmq_msg_close(&part);
        } else {
            if (nparts < 2) sizes[nparts] = zmq_msg_size(&part);
            nparts++;
            if (f->open) zmq_msg_close(&f->payload);
            f->payload = part; // the last frame is the payload
            f->open = 1;
        }
        if (!has_more) break;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, 0) < 0) { // the rest of a multipart is already here
            int e = zmq_errno();
            zmq_msg_close(&part);
            lc_frames_close(f);
            return lc_fail(err, LC_ERR_NET, "receive: %s", zmq_strerror(e));
        }
    }
    if (nparts == 2 && sizes[0] == 0) f->delim = 1;
    else if (nparts != 1) f->envelope_bad = 1;
    if (f->envelope_bad) lc_frames_close(f);
    return LC_OK;
}

static void free_buf(void *data, void *hint) {
    (void)hint;
    free(data);
}

int lc_net_send_bytes(void *sock, const void *ident, size_t ident_len, int delim, void *buf,
                      size_t len, int take, int *dropped, lc_error *err) {
    if (dropped) *dropped = 0;
    zmq_msg_t msg;
    int rc;
    if (take) rc = zmq_msg_init_data(&msg, buf, len, free_buf, NULL);
    else {
        rc = zmq_msg_init_size(&msg, len);
        if (rc == 0 && len) memcpy(zmq_msg_data(&msg), buf, len);
    }
    if (rc != 0) {
        if (take) free(buf);
        return zfail(err, "zmq_msg_init");
    }
    int e = 0;
    if (ident && zmq_send(sock, ident, ident_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) e = zmq_errno();
    if (!e && delim && zmq_send(sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) e = zmq_errno();
    if (!e && zmq_msg_send(&msg, sock, ZMQ_DONTWAIT) < 0) e = zmq_errno();
    zmq_msg_close(&msg); // after a successful send this is a no-op
    if (!e) return LC_OK;
    if (e == EAGAIN || e == EHOSTUNREACH) {
        if (dropped) *dropped = 1;
        return LC_OK;
    }
    return lc_fail(err, LC_ERR_NET, "send: %s", zmq_strerror(e));
}

int lc_net_send(void *sock, const void *ident, size_t ident_len, int delim, const lc_msg *m,
                int *dropped, lc_error *err) {
    void *buf;
    size_t len;
    int rc = lc_proto_encode(m, &buf, &len, err);
    if (rc) return rc;
    return lc_net_send_bytes(sock, ident, ident_len, delim, buf, len, 1, dropped, err);
}

// ---------------------------------------------------------------- a listening ROUTER

int lc_router_open(lc_router *r, const char *bind, int allow_public, size_t max_frame,
                   const char *curve_secret, const char *curve_allow, lc_error *err) {
    memset(r, 0, sizeof *r);
    int rc = lc_net_check_bind(bind, allow_public, err);
    if (!rc && !(r->ctx = zmq_ctx_new()))
        rc = lc_fail(err, LC_ERR_NET, "zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
    if (!rc && curve_secret) rc = lc_zap_start(&r->zap, r->ctx, curve_allow, err);
    if (!rc) rc = lc_net_socket(&r->sock, r->ctx, ZMQ_ROUTER, max_frame, err);
    if (!rc && curve_secret) rc = lc_net_curve_server(r->sock, curve_secret, err);
    if (!rc && zmq_bind(r->sock, bind) != 0)
        rc = lc_fail(err, LC_ERR_NET, "bind %s: %s", bind, zmq_strerror(zmq_errno()));
    if (rc) {
        lc_router_close(r);
        return rc;
    }
    size_t n = sizeof r->endpoint;
    if (zmq_getsockopt(r->sock, ZMQ_LAST_ENDPOINT, r->endpoint, &n) != 0)
        snprintf(r->endpoint, sizeof r->endpoint, "%s", bind);
    return LC_OK;
}

void lc_router_close(lc_router *r) {
    lc_net_close(&r->sock);
    lc_zap_stop(r->zap);
    if (r->ctx) zmq_ctx_term(r->ctx);
    memset(r, 0, sizeof *r);
}

// ---------------------------------------------------------------- logging

void lc_net_logf(void (*log)(void *ctx, const char *line), void *ctx, const char *fmt, ...) {
    if (!log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log(ctx, line);
}

double lc_net_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// ---------------------------------------------------------------- CURVE keys

int lc_curve_keypair(char pub[LC_CURVE_KEY_LEN + 1], char sec[LC_CURVE_KEY_LEN + 1],
                     lc_error *err) {
    if (!zmq_has("curve"))
        return lc_fail(err, LC_ERR_UNSUPPORTED, "this libzmq was built without CURVE");
    if (zmq_curve_keypair(pub, sec) != 0) return zfail(err, "zmq_curve_keypair");
    return LC_OK;
}

int lc_curve_public_of(const char *secret, char pub[LC_CURVE_KEY_LEN + 1], lc_error *err) {
    if (!zmq_has("curve"))
        return lc_fail(err, LC_ERR_UNSUPPORTED, "this libzmq was built without CURVE");
    uint8_t raw[32];
    if (strlen(secret) != LC_CURVE_KEY_LEN || !zmq_z85_decode(raw, secret))
        return lc_fail(err, LC_ERR_ARG, "not a z85 CURVE key (%d characters)", LC_CURVE_KEY_LEN);
    if (zmq_curve_public(pub, secret) != 0) return zfail(err, "zmq_curve_public");
    return LC_OK;
}

static int write_key(const char *path, const char *key, mode_t mode, lc_error *err) {
    char tmp[4096];
    int rc = lc_atomic_tmp(tmp, sizeof tmp, path, err);
    if (rc) return rc;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return lc_fail(err, LC_ERR_IO, "%s: %s", tmp, strerror(errno));
    char line[LC_CURVE_KEY_LEN + 2];
    snprintf(line, sizeof line, "%s\n", key);
    size_t n = strlen(line);
    int ok = fchmod(fd, mode) == 0 && write(fd, line, n) == (ssize_t)n;
    int e = errno;
    if (close(fd) != 0 && ok) ok = 0, e = errno;
    if (!ok) {
        lc_atomic_abort(tmp);
        return lc_fail(err, LC_ERR_IO, "%s: %s", path, strerror(e));
    }
    return lc_atomic_commit(tmp, path, err);
}

int lc_curve_write_keypair(const char *base, int force, char pub[LC_CURVE_KEY_LEN + 1],
                           lc_error *err) {
    char sec[LC_CURVE_KEY_LEN + 1], kpath[4096], ppath[4096];
    if (snprintf(kpath, sizeof kpath, "%s.key", base) >= (int)sizeof kpath ||
        snprintf(ppath, sizeof ppath, "%s.pub", base) >= (int)sizeof ppath)
        return lc_fail(err, LC_ERR_ARG, "%s: path too long", base);
    if (!force && access(kpath, F_OK) == 0)
        return lc_fail(err, LC_ERR_ARG, "%s exists (pass --force to replace it)", kpath);
    int rc = lc_curve_keypair(pub, sec, err);
    if (!rc) rc = write_key(kpath, sec, 0600, err);
    if (!rc) rc = write_key(ppath, pub, 0644, err);
    memset(sec, 0, sizeof sec);
    return rc;
}

int lc_curve_read_key(const char *path, char key[LC_CURVE_KEY_LEN + 1], lc_error *err) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return lc_fail(err, LC_ERR_IO, "%s: %s", path, strerror(errno));
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    int bad = ferror(fp) || !feof(fp);
    fclose(fp);
    if (bad) return lc_fail(err, LC_ERR_FORMAT, "%s: not a CURVE key file (too long)", path);
    buf[n] = '\0';
    char *s = buf;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
    size_t len = strcspn(s, " \t\r\n");
    char *rest = s + len;
    while (*rest == ' ' || *rest == '\t' || *rest == '\r' || *rest == '\n') rest++;
    uint8_t raw[32];
    if (len != LC_CURVE_KEY_LEN || *rest)
        return lc_fail(err, LC_ERR_FORMAT, "%s: expected one %d-character z85 key", path,
                       LC_CURVE_KEY_LEN);
    s[len] = '\0';
    if (!zmq_z85_decode(raw, s))
        return lc_fail(err, LC_ERR_FORMAT, "%s: not a z85 key", path);
    memcpy(key, s, LC_CURVE_KEY_LEN + 1);
    memset(buf, 0, sizeof buf);
    return LC_OK;
}

// ---------------------------------------------------------------- ZAP

struct lc_zap {
    void *sock;
    pthread_t thread;
    atomic_int stop;
    atomic_uint_fast64_t allowed, denied, send_failed; // send_failed: replies lost
    int allow_all;
    size_t nkeys;
    uint8_t (*keys)[32];
};

static int load_allow(lc_zap *z, const char *path, lc_error *err) {
    FILE *fp = fopen(path, "r");
    if (!fp) return lc_fail(err, LC_ERR_IO, "%s: %s", path, strerror(errno));
    char line[512];
    int rc = LC_OK, lineno = 0;
    while (!rc && fgets(line, sizeof line, fp)) {
        lineno++;
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        size_t len = strcspn(s, " \t\r\n"); // z85 has '#' in its alphabet: a key may start with it
        if (len == 0) continue;
        uint8_t raw[32];
        char c = s[len];
        s[len] = '\0';
        int is_key = len == LC_CURVE_KEY_LEN && zmq_z85_decode(raw, s) != NULL;
        s[len] = c;
        if (!is_key && s[0] == '#') continue; // a comment line
        if (!is_key) {
            rc = lc_fail(err, LC_ERR_FORMAT, "%s:%d: not a z85 public key", path, lineno);
            break;
        }
        void *k = realloc(z->keys, (z->nkeys + 1) * sizeof *z->keys);
        if (!k) {
            rc = lc_fail(err, LC_ERR_NOMEM, "out of memory");
            break;
        }
        z->keys = k;
        memcpy(z->keys[z->nkeys++], raw, 32);
    }
    fclose(fp);
    if (!rc && z->nkeys == 0)
        rc = lc_fail(err, LC_ERR_ARG, "%s: no public keys in the allow-list", path);
    return rc;
}

static int zap_admits(const lc_zap *z, const zmq_msg_t *mech, const zmq_msg_t *cred) {
    if (zmq_msg_size(mech) != 5 || memcmp(zmq_msg_data((zmq_msg_t *)mech), "CURVE", 5) != 0)
        return 0;
    if (zmq_msg_size(cred) != 32) return 0;
    if (z->allow_all) return 1;
    for (size_t i = 0; i < z->nkeys; i++)
        if (memcmp(z->keys[i], zmq_msg_data((zmq_msg_t *)cred), 32) == 0) return 1;
    return 0;
}

// Requests: version, request id, domain, address, identity, mechanism, credentials...
// Replies: version, request id, status code, status text, user id, metadata.
static void *zap_main(void *arg) {
    lc_zap *z = arg;
    while (!atomic_load(&z->stop)) {
        zmq_pollitem_t it = {z->sock, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&it, 1, 100);
        if (rc < 0 && zmq_errno() == EINTR) continue;
        if (rc < 0) break;
        if (rc == 0) continue;
        zmq_msg_t parts[8];
        int n = 0, ok = 1;
        for (;;) {
            zmq_msg_t tmp;
            zmq_msg_init(&tmp);
            if (zmq_msg_recv(&tmp, z->sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&tmp);
                ok = 0;
                break;
            }
            int has_more = more(z->sock);
            if (n < 8) parts[n++] = tmp;
            else zmq_msg_close(&tmp);
            if (!has_more) break;
        }
        if (ok && n >= 2) {
            int yes = n >= 7 && zap_admits(z, &parts[5], &parts[6]);
            if (yes) atomic_fetch_add(&z->allowed, 1);
            else atomic_fetch_add(&z->denied, 1);
            const char *code = yes ? "200" : n >= 7 ? "400" : "500";
            const char *text = yes ? "OK" : n >= 7 ? "key not allowed" : "bad request";
            // A failed send leaves the REP socket to its own recovery; nothing to undo.
            if (zmq_send(z->sock, "1.0", 3, ZMQ_SNDMORE) < 0 ||
                zmq_send(z->sock, zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]), ZMQ_SNDMORE) < 0 ||
                zmq_send(z->sock, code, 3, ZMQ_SNDMORE) < 0 ||
                zmq_send(z->sock, text, strlen(text), ZMQ_SNDMORE) < 0 ||
                zmq_send(z->sock, "", 0, ZMQ_SNDMORE) < 0 || zmq_send(z->sock, "", 0, 0) < 0)
                atomic_fetch_add(&z->send_failed, 1);
        }
        for (int i = 0; i < n; i++) zmq_msg_close(&parts[i]);
    }
    return NULL;
}

int lc_zap_start(lc_zap **out, void *ctx, const char *allow_path, lc_error *err) {
    *out = NULL;
    lc_zap *z = calloc(1, sizeof *z);
    if (!z) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    atomic_init(&z->stop, 0);
    atomic_init(&z->allowed, 0);
    atomic_init(&z->denied, 0);
    atomic_init(&z->send_failed, 0);
    int rc = LC_OK;
    if (allow_path) rc = load_allow(z, allow_path, err);
    else z->allow_all = 1;
    if (!rc) {
        z->sock = zmq_socket(ctx, ZMQ_REP);
        int linger = 0;
        if (!z->sock) rc = zfail(err, "zmq_socket (ZAP)");
        else if (zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
                 zmq_bind(z->sock, "inproc://zeromq.zap.01") != 0)
            rc = zfail(err, "ZAP handler bind");
    }
    if (!rc && pthread_create(&z->thread, NULL, zap_main, z) != 0)
        rc = lc_fail(err, LC_ERR_NOMEM, "cannot start the ZAP thread");
    if (rc) {
        if (z->sock) zmq_close(z->sock);
        free(z->keys);
        free(z);
        return rc;
    }
    *out = z;
    return LC_OK;
}

void lc_zap_stop(lc_zap *z) {
    if (!z) return;
    atomic_store(&z->stop, 1);
    pthread_join(z->thread, NULL);
    zmq_close(z->sock);
    free(z->keys);
    free(z);
}

uint64_t lc_zap_allowed(const lc_zap *z) { return z ? atomic_load(&((lc_zap *)z)->allowed) : 0; }
uint64_t lc_zap_denied(const lc_zap *z) { return z ? atomic_load(&((lc_zap *)z)->denied) : 0; }
