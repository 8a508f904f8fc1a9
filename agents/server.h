// agents/server.h: the env server: lucid envs stepped for remote clients (any
// language with ZeroMQ + msgpack) over a ROUTER socket, one env vector per client
// identity, every failure answered with an error message. Leaves out: async
// stepping across clients (requests are served one at a time), shared envs.
#ifndef LC_AGENTS_SERVER_H
#define LC_AGENTS_SERVER_H

#include "core/api.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

LC_API_BEGIN

typedef struct lc_server_cfg {
    const char *bind;          // "tcp://127.0.0.1:5556"; a port of '*' picks a free one
    int allow_public;          // 0: refuse endpoints reachable from other machines
    const char *default_env;   // env for a "make" without "env" (NULL: none); the only
                               // dream: env clients may make (dream: names read files)
    int default_num_envs;      // num_envs for a "make" without it (1)
    int max_clients;           // clients with an env at once (64)
    int max_num_envs;          // cap on a client's num_envs (1024)
    int num_threads;           // env stepping threads per client (lc_env_opts; 1)
    double idle_timeout_s;     // a client silent this long loses its env (600)
    size_t max_frame;          // message cap (0: LC_PROTO_MAX_FRAME)
    const char *curve_secret;  // z85 server secret key: CURVE on (NULL: off)
    const char *curve_allow;   // allow-list of client public keys (NULL: any CURVE client)
    atomic_int *stop;          // the run loop returns soon after *stop becomes non-zero
    void (*log)(void *ctx, const char *line); // NULL: silent
    void *log_ctx;
} lc_server_cfg;

lc_server_cfg lc_server_cfg_default(void);

typedef struct lc_server_stats {
    uint64_t requests;  // messages received
    uint64_t errors;    // error replies (malformed requests, env errors, ...)
    uint64_t malformed; // messages the decoder rejected
    uint64_t clients;   // clients served since the start
    int clients_now;    // clients holding an env
} lc_server_stats;

typedef struct lc_server lc_server;

// Makes the context and socket and binds (so bind errors come back here).
int lc_server_new(lc_server **out, const lc_server_cfg *cfg, lc_error *err);
// The endpoint actually bound (resolves a '*' port).
const char *lc_server_endpoint(const lc_server *s);
// Serves until *cfg.stop; LC_ERR_NET on a socket failure.
int lc_server_run(lc_server *s, lc_error *err);
void lc_server_get_stats(const lc_server *s, lc_server_stats *st);
void lc_server_free(lc_server *s); // NULL is fine

LC_API_END

#endif
