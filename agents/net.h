// agents/net.h: the ZeroMQ side of the wire protocol: sockets with lucid's habits
// (LINGER 0, MAXMSGSIZE, CURVE), one-message send/receive with ROUTER envelopes,
// loopback checks, CURVE key files and a ZAP handler with an allow-list.
// Leaves out: PUB/SUB, socket monitors, reconnect policy (worker.c does that).
#ifndef LC_AGENTS_NET_H
#define LC_AGENTS_NET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "agents/proto.h"
#include "core/error.h"

#define LC_CURVE_KEY_LEN 40 // z85 characters of a CURVE key (32 bytes)

// ---------------------------------------------------------------- endpoints

// 1 for endpoints only this machine can reach: tcp:// on 127.0.0.0/8, "localhost",
// "[::1]", the "lo" interface; ipc:// and inproc://. 0 otherwise ("*", 0.0.0.0, names).
int lc_endpoint_is_local(const char *endpoint);
// LC_ERR_ARG unless the endpoint is local or allow_public is set.
int lc_net_check_bind(const char *endpoint, int allow_public, lc_error *err);

// ---------------------------------------------------------------- sockets

// A socket of type on ctx with ZMQ_LINGER 0, ZMQ_MAXMSGSIZE = max_frame (0: the
// protocol's cap) and a 1000-message receive high-water mark.
int lc_net_socket(void **out, void *ctx, int type, size_t max_frame, lc_error *err);
// Closes *sock (if not NULL) and sets it to NULL.
void lc_net_close(void **sock);
// CURVE server (before bind): the server's secret key (z85).
int lc_net_curve_server(void *sock, const char *secret_z85, lc_error *err);
// CURVE client (before connect): the server's public key and the client's secret key;
// the client's public key is derived from its secret.
int lc_net_curve_client(void *sock, const char *server_public_z85, const char *secret_z85,
                        lc_error *err);

// One received message. A ROUTER's first frame is the peer identity; a REQ peer adds
// an empty delimiter frame, which replies must repeat. envelope_bad: the frames were
// not [identity] [delimiter] payload (the payload is then empty).
typedef struct lc_frames {
    unsigned char ident[256];
    size_t ident_len;
    int delim;
    int envelope_bad;
    zmq_msg_t payload;
    int open; // payload must be closed (lc_frames_close)
} lc_frames;

// Receives one message without waiting: *got = 0 when none is queued. router: the
// first frame is an identity. Errors are LC_ERR_NET (ETERM, ...).
int lc_net_recv(void *sock, int router, lc_frames *f, int *got, lc_error *err);
void lc_frames_close(lc_frames *f);
const void *lc_frames_data(lc_frames *f);
size_t lc_frames_size(lc_frames *f);

// Encodes m and sends it (to ident on a ROUTER, with an empty delimiter when delim)
// without blocking. A full queue or an unroutable peer (EAGAIN, EHOSTUNREACH) drops
// the message and returns LC_OK with *dropped = 1 (dropped may be NULL).
int lc_net_send(void *sock, const void *ident, size_t ident_len, int delim, const lc_msg *m,
                int *dropped, lc_error *err);
// The same with bytes already encoded; buf is copied unless take: then it must come
// from malloc and is freed by ZeroMQ (also on failure).
int lc_net_send_bytes(void *sock, const void *ident, size_t ident_len, int delim, void *buf,
                      size_t len, int take, int *dropped, lc_error *err);

// Seconds since an arbitrary start (monotonic).
double lc_net_now(void);

// ---------------------------------------------------------------- a listening ROUTER

typedef struct lc_zap lc_zap;

// What the learner and the env server listen with: a context of its own, a ZAP
// handler when CURVE is on, a ROUTER (lc_net_socket's options) bound to an endpoint.
typedef struct lc_router {
    void *ctx, *sock;
    lc_zap *zap;        // NULL without CURVE
    char endpoint[256]; // the bound endpoint (a "*" or ":0" resolved by ZeroMQ)
} lc_router;

// Checks bind (lc_net_check_bind), makes the context, starts the ZAP handler with
// curve_allow when curve_secret is set (the socket is then a CURVE server), opens
// the socket with ZMQ_MAXMSGSIZE = max_frame (0: the protocol's cap) and binds it.
// On failure everything made is closed and r is zeroed.
int lc_router_open(lc_router *r, const char *bind, int allow_public, size_t max_frame,
                   const char *curve_secret, const char *curve_allow, lc_error *err);
// Closes the socket (linger as set: 0 unless the caller raised it), stops the ZAP
// handler, terminates the context; a zeroed r is fine.
void lc_router_close(lc_router *r);

// ---------------------------------------------------------------- logging

// Formats one line (at most 1023 bytes) and hands it to log(ctx, line); nothing
// when log is NULL. The learner's and the server's cfg.log callbacks.
void lc_net_logf(void (*log)(void *ctx, const char *line), void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// ---------------------------------------------------------------- CURVE keys

// A new key pair as z85 strings (41 bytes with NUL). LC_ERR_UNSUPPORTED when libzmq
// was built without CURVE.
int lc_curve_keypair(char pub[LC_CURVE_KEY_LEN + 1], char sec[LC_CURVE_KEY_LEN + 1],
                     lc_error *err);
// Writes BASE.key (the secret, mode 0600) and BASE.pub (the public key), each one z85
// line, atomically; refuses to overwrite an existing BASE.key unless force.
int lc_curve_write_keypair(const char *base, int force, char pub[LC_CURVE_KEY_LEN + 1],
                           lc_error *err);
// Reads one z85 key (40 characters, surrounding whitespace ignored) from a file.
int lc_curve_read_key(const char *path, char key[LC_CURVE_KEY_LEN + 1], lc_error *err);
// The public key of a secret key.
int lc_curve_public_of(const char *secret_z85, char pub[LC_CURVE_KEY_LEN + 1], lc_error *err);

// ---------------------------------------------------------------- ZAP

// A ZAP handler (RFC 27) on ctx, in its own thread: it admits a CURVE client when its
// public key is in the allow-list file (one z85 key first on each line, anything
// after it ignored; blank lines and lines starting with '#' that are not keys are
// comments; a .pub file works), and refuses every other peer and mechanism.
// allow_path NULL: every CURVE client that completes the handshake is admitted.
// Start it before binding the CURVE server socket on the same context.
int lc_zap_start(lc_zap **out, void *ctx, const char *allow_path, lc_error *err);
void lc_zap_stop(lc_zap *z); // joins the thread; NULL is fine
uint64_t lc_zap_allowed(const lc_zap *z);
uint64_t lc_zap_denied(const lc_zap *z);

#endif
