// agents/worker.h: a rollout worker: a DEALER socket to the learner; it says hello,
// receives the env, the policy and versioned weights, runs rollouts locally with
// lc_policy_act and sends segments back; heartbeats, and reconnects with backoff
// when the learner goes silent (the Paranoid Pirate pattern of the ZeroMQ guide).
// Leaves out: several learners, local training.
#ifndef LC_AGENTS_WORKER_H
#define LC_AGENTS_WORKER_H

#include "core/api.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

LC_API_BEGIN

typedef struct lc_worker_cfg {
    const char *connect;        // "tcp://HOST:5555"
    int num_envs;               // envs stepped here (0: the learner's suggestion)
    int num_threads;            // env stepping threads (1)
    double heartbeat_s;         // until the learner's setup says otherwise (1)
    double timeout_s;           // learner silent this long: reconnect (0: the learner's timeout)
    double backoff_s;           // first reconnect delay, doubled each time (0.5)
    double backoff_max_s;       // (16)
    double give_up_s;           // no contact this long: return LC_ERR_NET (0: never)
    const char *curve_server_public; // z85 learner public key: CURVE on (NULL: off)
    const char *curve_secret;   // z85 secret key of this worker (needed with CURVE)
    const char *name;           // shown in the learner's log (NULL: "host:pid")
    const char *tmp_dir;        // where a dream: model is written (NULL: $TMPDIR or /tmp)
    size_t max_frame;           // message cap (0: LC_PROTO_MAX_FRAME)
    atomic_int *stop;           // return soon after it is set (sending "bye")
    void (*log)(void *ctx, const char *line); // NULL: silent
    void *log_ctx;
} lc_worker_cfg;

lc_worker_cfg lc_worker_cfg_default(void);

typedef struct lc_worker_stats {
    int worker_id;              // the learner's number for this worker (-1 before setup)
    int64_t version;            // weights version in use (-1: none yet)
    int64_t segments, steps;    // sent
    int64_t weights;            // weights messages taken
    int64_t reconnects;
    int64_t errors;             // error messages from the learner
} lc_worker_stats;

// Runs until the learner says "bye" (LC_OK), *stop (LC_OK), give_up_s without contact
// (LC_ERR_NET) or a local failure (the env or policy the learner asked for cannot be
// made: that error). st may be NULL; it is kept current after every segment sent (so
// a copy in shared memory survives a worker that is killed).
int lc_worker_run(const lc_worker_cfg *cfg, lc_worker_stats *st, lc_error *err);

LC_API_END

#endif
