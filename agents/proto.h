// agents/proto.h: lucid's wire protocol: one msgpack map per ZeroMQ frame, with a
// type "t" and a protocol version "v", for the env server and learner/workers.
// Every field is type- and size-checked by one decoder (docs/PROTOCOL.md is the
// reference). Leaves out: sockets (agents/net.h), compression, streaming tensors.
//
// Letters: T = rollout steps, N = envs (columns), O = obs elements per row,
// A = action elements per row, S = recurrent state floats, P = policy parameters.
#ifndef LC_AGENTS_PROTO_H
#define LC_AGENTS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/file.h"
#include "env/env.h"

#define LC_PROTO_VERSION 1
// Limits (all checked by lc_proto_decode; see docs/PROTOCOL.md "Limits").
#define LC_PROTO_MAX_FRAME ((size_t)64 << 20) // bytes in one message frame
#define LC_PROTO_MAX_OBJECTS 4096   // msgpack values in one message (bins count as one)
#define LC_PROTO_MAX_DEPTH 6        // nesting of maps/arrays
#define LC_PROTO_MAX_KEYS 64        // keys in the top-level map
#define LC_PROTO_STR_MAX 256        // env names, params, worker names (bytes + NUL)
#define LC_PROTO_ERRMSG_MAX 512     // error messages (bytes + NUL)
#define LC_PROTO_MAX_ENVS 4096      // num_envs, N
#define LC_PROTO_MAX_STEPS 65536    // T
#define LC_PROTO_MAX_DIM ((int64_t)1 << 31) // any tensor dimension is < this

typedef enum lc_msg_type {
    LC_MSG_ERROR = 0, // either direction: {code, name, msg}
    // env server: requests (client -> server)
    LC_MSG_MAKE,   // {env?, num_envs?, params?, max_episode_steps?} -> env
    LC_MSG_RESET,  // {seed?} -> obs
    LC_MSG_STEP,   // {actions} -> transition
    LC_MSG_SPACES, // {} -> env
    LC_MSG_RENDER, // {index?} -> frame
    LC_MSG_CLOSE,  // {} -> closed
    // env server: replies (server -> client)
    LC_MSG_ENV,        // {name, num_envs, obs_space, act_space, max_episode_steps, render_w, render_h}
    LC_MSG_OBS,        // {obs}
    LC_MSG_TRANSITION, // {obs, rewards, terminated, truncated, final_obs?, ep_return?, ep_length?}
    LC_MSG_FRAME,      // {index, rgb}
    LC_MSG_CLOSED,     // {}
    // learner <-> workers
    LC_MSG_HELLO,     // worker -> learner {num_envs, name?}
    LC_MSG_SETUP,     // learner -> worker: env, PPO rollout length, the policy file, ...
    LC_MSG_WEIGHTS,   // learner -> worker {version, params}
    LC_MSG_ROLLOUT,   // worker -> learner: one rollout segment
    LC_MSG_HEARTBEAT, // either direction {}
    LC_MSG_BYE,       // either direction {reason?}: the sender is leaving (learner: training over)
    LC_MSG_COUNT
} lc_msg_type;

// The type string of a message ("step"); NULL outside the enum.
const char *lc_msg_type_name(lc_msg_type t);

// A tensor on the wire: {"dtype": str, "shape": [int...], "data": bin}. After a
// decode, data points INTO the frame (keep the frame alive while using it; it may be
// unaligned: read it with memcpy or lc_wire_tensor_copy). present = 0: field absent.
typedef struct lc_wire_tensor {
    int present;
    lc_dtype dtype;
    int ndim;                    // 0..LC_MAX_DIMS
    int64_t shape[LC_MAX_DIMS];
    size_t nbytes;               // = product(shape) * lc_dtype_size(dtype), checked
    const void *data;
} lc_wire_tensor;

// A tensor value for encoding (data borrowed).
lc_wire_tensor lc_wire_tensor_of(lc_dtype dtype, int ndim, const int64_t *shape, const void *data);
// Element count (product of the shape).
size_t lc_wire_tensor_count(const lc_wire_tensor *t);
// Copies the data out to dst (nbytes); dst is aligned memory the caller owns.
void lc_wire_tensor_copy(void *dst, const lc_wire_tensor *t);

// Raw bytes on the wire (msgpack bin), e.g. a policy file. data points into the frame.
typedef struct lc_wire_bytes {
    int present;
    size_t size;
    const void *data;
} lc_wire_bytes;

typedef struct lc_msg {
    lc_msg_type type;
    int version; // LC_PROTO_VERSION after a successful decode; the encoder writes LC_PROTO_VERSION
    union {
        struct {
            int code;                      // an lc_status
            char msg[LC_PROTO_ERRMSG_MAX];
        } error;
        struct {
            char env[LC_PROTO_STR_MAX];    // "" = the server's default env
            char params[LC_PROTO_STR_MAX]; // backend options "k=v,k=v" ("" = none)
            int num_envs;                  // 1..LC_PROTO_MAX_ENVS (0: absent, the server's default)
            int max_episode_steps;         // as lc_env_opts (absent: 0 = the env's)
        } make;
        struct {
            int has_seed;                  // seed absent or nil: 0 (continue the streams)
            uint64_t seed;
        } reset;
        struct {
            lc_wire_tensor actions;        // (N) or (N, A), i32 or f32
        } step;
        struct {
            int index;                     // env index >= 0 (absent: 0)
        } render;
        struct {
            char name[LC_PROTO_STR_MAX];
            int num_envs;
            lc_space obs_space, act_space;
            int max_episode_steps;
            int render_w, render_h;
        } env;
        struct {
            lc_wire_tensor obs;            // (N, obs shape...)
        } obs;
        struct lc_msg_transition {
            lc_wire_tensor obs;            // (N, obs shape...)
            lc_wire_tensor rewards;        // (N) f32
            lc_wire_tensor terminated;     // (N) u8
            lc_wire_tensor truncated;      // (N) u8
            lc_wire_tensor final_obs;      // optional (N, obs shape...): rows valid where done
            lc_wire_tensor ep_return;      // optional (N) f32, rows valid where done
            lc_wire_tensor ep_length;      // optional (N) i32
        } transition;
        struct {
            int index;
            lc_wire_tensor rgb;            // (H, W, 3) u8
        } frame;
        struct {
            int num_envs;                  // 0 = take the learner's suggestion
            char name[LC_PROTO_STR_MAX];   // free text for logs ("host:pid"), may be ""
        } hello;
        struct lc_msg_setup {
            int worker_id;                 // >= 0, assigned by the learner
            char env[LC_PROTO_STR_MAX];    // env name; dream: envs name the model file
            char params[LC_PROTO_STR_MAX];
            int max_episode_steps;
            int num_envs;                  // suggested envs per worker (1..MAX_ENVS)
            int num_steps;                 // T per segment (1..MAX_STEPS)
            uint64_t seed;
            int segments_per_version;      // >= 1: segments a worker may send per weights version
            int heartbeat_ms;              // 1..600000
            int timeout_ms;                // the learner's timeout for silent workers
            int normalize_reward;          // 0/1: the worker's env scales rewards (normalize_reward)
            float gamma, clip_reward;
            lc_wire_bytes policy;          // a lucid "policy" file (docs/FORMAT.md), required
            lc_wire_bytes model;           // optional: the dream: model file's bytes
        } setup;
        struct {
            int64_t version;               // >= 0
            lc_wire_tensor params;         // (P) f32
        } weights;
        struct lc_msg_rollout {
            int64_t version;               // the weights that acted
            int worker_id;
            int T, N;                      // from the shapes
            lc_wire_tensor obs;            // (T, N, O) f32 or u8
            lc_wire_tensor actions;        // (T, N, A) i32 or f32
            lc_wire_tensor logp, values, rewards, final_values; // (T, N) f32
            lc_wire_tensor terminated, truncated, starts;       // (T, N) u8
            lc_wire_tensor next_value;     // (N) f32
            lc_wire_tensor next_start;     // (N) u8
            lc_wire_tensor state0;         // optional (N, S) f32 (recurrent policies)
            int64_t episodes;              // episodes finished in the segment (>= 0)
            double return_sum, length_sum; // their summed returns and lengths
        } rollout;
        struct {
            char reason[LC_PROTO_STR_MAX];
        } bye;
    };
} lc_msg;

// A zeroed message of type t with the optional fields at their defaults.
lc_msg lc_msg_init(lc_msg_type t);

// Decoder bookkeeping, owned by the caller (no globals): every decode call counts.
typedef struct lc_proto_counts {
    uint64_t ok;                    // messages decoded
    uint64_t rejected;              // malformed messages answered with an error
    uint64_t by_code[LC_ERR_COUNT]; // rejected, by status
} lc_proto_counts;

// Decodes one frame. Checks, in order: size (<= max_frame, 0 = LC_PROTO_MAX_FRAME;
// LC_ERR_SIZE), msgpack structure (complete, one value, every byte used, nesting
// and object caps: LC_ERR_PROTO / LC_ERR_SIZE), a map with string keys, no duplicate
// keys, "v" an int equal to LC_PROTO_VERSION (LC_ERR_VERSION), "t" a known type
// (LC_ERR_PROTO), then each field of that type: presence (LC_ERR_PROTO), msgpack type
// (LC_ERR_TYPE), ranges and caps (LC_ERR_SIZE / LC_ERR_ARG), tensor dtype and byte
// count against the shape (LC_ERR_TYPE / LC_ERR_SHAPE) and shapes that must agree
// (LC_ERR_SHAPE). Unknown keys are ignored. Never reads outside buf[0..len).
// counts may be NULL. On failure *m is zeroed and err says what was wrong.
int lc_proto_decode(lc_msg *m, const void *buf, size_t len, size_t max_frame,
                    lc_proto_counts *counts, lc_error *err);

// Encodes m (its version field is ignored: LC_PROTO_VERSION is written) into a
// malloc'd buffer (*buf, *len; the caller frees it, or hands it to zmq_msg_init_data
// with a free callback). Absent optional fields are not written. LC_ERR_NOMEM.
int lc_proto_encode(const lc_msg *m, void **buf, size_t *len, lc_error *err);

// Helpers for messages built by hand.
lc_msg lc_msg_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
