// tests/test_proto.c: the wire protocol (agents/proto.h) and its pure helpers in
// agents/net.h: round trips of every message type, and the decoder against
// malformed input: every truncation, wrong types per field, huge declared sizes,
// wrong versions, random and mutated bytes. Leaves out: sockets (test_dist.c).
#include <check.h>
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agents/net.h"
#include "agents/proto.h"
#include "core/rng.h"

// ---------------------------------------------------------------- samples

static int32_t act_i32[6] = {0, 1, 1, 0, 1, 0};
static float f32_a[64], f32_b[64], f32_c[64];
static uint8_t u8_a[64], u8_b[64], u8_c[64];
static int32_t i32_a[8] = {10, 20, 30};
static const char blob[] = "\x89LUCID policy bytes";

static void fill_buffers(void) {
    for (int i = 0; i < 64; i++) {
        f32_a[i] = 0.25f * (float)i - 3.0f;
        f32_b[i] = -0.5f * (float)i;
        f32_c[i] = (float)(i % 7);
        u8_a[i] = (uint8_t)(i % 2);
        u8_b[i] = (uint8_t)(i % 3 == 0);
        u8_c[i] = (uint8_t)(i * 5);
    }
}

#define NSAMPLES (LC_MSG_COUNT + 1)

// Sample k: one of every type, plus a second env description (k = LC_MSG_COUNT).
static lc_msg sample(int k) {
    int64_t s31[2] = {3, 1}, s34[2] = {3, 4}, s3 = 3, rgb[3] = {2, 3, 3}, p5 = 5;
    int64_t tno[3] = {3, 2, 4}, tna[3] = {3, 2, 1}, tn[2] = {3, 2}, n2 = 2, st0[2] = {2, 3};
    lc_msg m = lc_msg_init(k < LC_MSG_COUNT ? (lc_msg_type)k : LC_MSG_ENV);
    switch (k) {
    case LC_MSG_ERROR:
        m.error.code = LC_ERR_ACTION;
        snprintf(m.error.msg, sizeof m.error.msg, "action 7 outside [0, 2)");
        break;
    case LC_MSG_MAKE:
        snprintf(m.make.env, sizeof m.make.env, "CartPole-v1");
        snprintf(m.make.params, sizeof m.make.params, "a=1,b=2");
        m.make.num_envs = 3;
        m.make.max_episode_steps = 200;
        break;
    case LC_MSG_RESET:
        m.reset.has_seed = 1;
        m.reset.seed = 0x8000000000000005ull;
        break;
    case LC_MSG_STEP: m.step.actions = lc_wire_tensor_of(LC_I32, 2, s31, act_i32); break;
    case LC_MSG_RENDER: m.render.index = 2; break;
    case LC_MSG_ENV: {
        snprintf(m.env.name, sizeof m.env.name, "CartPole-v1");
        m.env.num_envs = 3;
        float lo[4] = {-4.8f, -INFINITY, -0.42f, -INFINITY}, hi[4] = {4.8f, INFINITY, 0.42f, INFINITY};
        int sh[1] = {4};
        m.env.obs_space = lc_space_box(LC_F32, 1, sh, lo, hi);
        m.env.act_space = lc_space_discrete(2);
        m.env.max_episode_steps = 500;
        m.env.render_w = 600;
        m.env.render_h = 400;
        break;
    }
    case LC_MSG_OBS: m.obs.obs = lc_wire_tensor_of(LC_F32, 2, s34, f32_a); break;
    case LC_MSG_TRANSITION:
        m.transition.obs = lc_wire_tensor_of(LC_F32, 2, s34, f32_a);
        m.transition.rewards = lc_wire_tensor_of(LC_F32, 1, &s3, f32_b);
        m.transition.terminated = lc_wire_tensor_of(LC_U8, 1, &s3, u8_a);
        m.transition.truncated = lc_wire_tensor_of(LC_U8, 1, &s3, u8_b);
        m.transition.final_obs = lc_wire_tensor_of(LC_F32, 2, s34, f32_c);
        m.transition.ep_return = lc_wire_tensor_of(LC_F32, 1, &s3, f32_c);
        m.transition.ep_length = lc_wire_tensor_of(LC_I32, 1, &s3, i32_a);
        break;
    case LC_MSG_FRAME:
        m.frame.index = 1;
        m.frame.rgb = lc_wire_tensor_of(LC_U8, 3, rgb, u8_c);
        break;
    case LC_MSG_HELLO:
        m.hello.num_envs = 2;
        snprintf(m.hello.name, sizeof m.hello.name, "host:123");
        break;
    case LC_MSG_SETUP:
        m.setup.worker_id = 4;
        snprintf(m.setup.env, sizeof m.setup.env, "dream:model.lucid?temperature=0.5");
        snprintf(m.setup.params, sizeof m.setup.params, "k=v");
        m.setup.max_episode_steps = -1;
        m.setup.num_envs = 8;
        m.setup.num_steps = 64;
        m.setup.seed = 12345678901234ull;
        m.setup.segments_per_version = 2;
        m.setup.heartbeat_ms = 250;
        m.setup.timeout_ms = 3000;
        m.setup.normalize_reward = 1;
        m.setup.gamma = 0.995f;
        m.setup.clip_reward = 5.0f;
        m.setup.policy = (lc_wire_bytes){1, sizeof blob, blob};
        m.setup.model = (lc_wire_bytes){1, 5, "model"};
        break;
    case LC_MSG_WEIGHTS:
        m.weights.version = 7;
        m.weights.params = lc_wire_tensor_of(LC_F32, 1, &p5, f32_b);
        break;
    case LC_MSG_ROLLOUT: {
        struct lc_msg_rollout *x = &m.rollout;
        x->version = 3;
        x->worker_id = 4;
        x->T = 3, x->N = 2;
        x->obs = lc_wire_tensor_of(LC_F32, 3, tno, f32_a);
        x->actions = lc_wire_tensor_of(LC_I32, 3, tna, act_i32);
        x->logp = lc_wire_tensor_of(LC_F32, 2, tn, f32_b);
        x->values = lc_wire_tensor_of(LC_F32, 2, tn, f32_c);
        x->rewards = lc_wire_tensor_of(LC_F32, 2, tn, f32_a);
        x->final_values = lc_wire_tensor_of(LC_F32, 2, tn, f32_b);
        x->terminated = lc_wire_tensor_of(LC_U8, 2, tn, u8_a);
        x->truncated = lc_wire_tensor_of(LC_U8, 2, tn, u8_b);
        x->starts = lc_wire_tensor_of(LC_U8, 2, tn, u8_c);
        x->next_value = lc_wire_tensor_of(LC_F32, 1, &n2, f32_c);
        x->next_start = lc_wire_tensor_of(LC_U8, 1, &n2, u8_a);
        x->state0 = lc_wire_tensor_of(LC_F32, 2, st0, f32_a);
        x->episodes = 1;
        x->return_sum = 12.5;
        x->length_sum = 12;
        break;
    }
    case LC_MSG_BYE: snprintf(m.bye.reason, sizeof m.bye.reason, "training done"); break;
    case LC_MSG_COUNT: { // a second env: image observations, MultiDiscrete actions
        snprintf(m.env.name, sizeof m.env.name, "Breakout-v0");
        m.env.num_envs = 1;
        int sh[3] = {84, 84, 3}, nvec[3] = {3, 2, 5};
        m.env.obs_space = lc_space_box_scalar(LC_U8, 3, sh, 0, 255);
        m.env.act_space = lc_space_multi_discrete(3, nvec);
        break;
    }
    default: break;
    }
    return m;
}

static void encode(const lc_msg *m, void **buf, size_t *len) {
    lc_error err = {0};
    ck_assert_msg(lc_proto_encode(m, buf, len, &err) == LC_OK, "%s", err.msg);
}

static void same_tensor(const lc_wire_tensor *a, const lc_wire_tensor *b, const char *what) {
    ck_assert_msg(a->present == b->present, "%s: presence", what);
    if (!a->present) return;
    ck_assert_msg(a->dtype == b->dtype && a->ndim == b->ndim && a->nbytes == b->nbytes, "%s", what);
    for (int i = 0; i < a->ndim; i++) ck_assert_int_eq(a->shape[i], b->shape[i]);
    ck_assert_msg(memcmp(a->data, b->data, a->nbytes) == 0, "%s: data", what);
}

static void same_space(const lc_space *a, const lc_space *b) {
    ck_assert_int_eq(a->kind, b->kind);
    ck_assert_int_eq(a->dtype, b->dtype);
    ck_assert_int_eq(a->ndim, b->ndim);
    for (int i = 0; i < a->ndim; i++) ck_assert_int_eq(a->shape[i], b->shape[i]);
    int size = lc_space_size(a);
    for (int i = 0; i < size && i < 32; i++) {
        if (a->kind == LC_SPACE_BOX) {
            ck_assert(lc_space_low(a, i) == lc_space_low(b, i));
            ck_assert(lc_space_high(a, i) == lc_space_high(b, i));
        }
    }
    if (a->kind == LC_SPACE_DISCRETE) ck_assert_int_eq(a->n, b->n);
    if (a->kind == LC_SPACE_MULTI_DISCRETE)
        for (int i = 0; i < a->shape[0]; i++) ck_assert_int_eq(a->nvec[i], b->nvec[i]);
}

static void same_msg(const lc_msg *a, const lc_msg *b) {
    ck_assert_int_eq(a->type, b->type);
    ck_assert_int_eq(b->version, LC_PROTO_VERSION);
    switch (a->type) {
    case LC_MSG_ERROR:
        ck_assert_int_eq(a->error.code, b->error.code);
        ck_assert_str_eq(a->error.msg, b->error.msg);
        break;
    case LC_MSG_MAKE:
        ck_assert_str_eq(a->make.env, b->make.env);
        ck_assert_str_eq(a->make.params, b->make.params);
        ck_assert_int_eq(a->make.num_envs, b->make.num_envs);
        ck_assert_int_eq(a->make.max_episode_steps, b->make.max_episode_steps);
        break;
    case LC_MSG_RESET:
        ck_assert_int_eq(a->reset.has_seed, b->reset.has_seed);
        ck_assert(a->reset.seed == b->reset.seed);
        break;
    case LC_MSG_STEP: same_tensor(&a->step.actions, &b->step.actions, "actions"); break;
    case LC_MSG_RENDER: ck_assert_int_eq(a->render.index, b->render.index); break;
    case LC_MSG_ENV:
        ck_assert_str_eq(a->env.name, b->env.name);
        ck_assert_int_eq(a->env.num_envs, b->env.num_envs);
        same_space(&a->env.obs_space, &b->env.obs_space);
        same_space(&a->env.act_space, &b->env.act_space);
        ck_assert_int_eq(a->env.max_episode_steps, b->env.max_episode_steps);
        ck_assert_int_eq(a->env.render_w, b->env.render_w);
        ck_assert_int_eq(a->env.render_h, b->env.render_h);
        break;
    case LC_MSG_OBS: same_tensor(&a->obs.obs, &b->obs.obs, "obs"); break;
    case LC_MSG_TRANSITION:
        same_tensor(&a->transition.obs, &b->transition.obs, "obs");
        same_tensor(&a->transition.rewards, &b->transition.rewards, "rewards");
        same_tensor(&a->transition.terminated, &b->transition.terminated, "terminated");
        same_tensor(&a->transition.truncated, &b->transition.truncated, "truncated");
        same_tensor(&a->transition.final_obs, &b->transition.final_obs, "final_obs");
        same_tensor(&a->transition.ep_return, &b->transition.ep_return, "ep_return");
        same_tensor(&a->transition.ep_length, &b->transition.ep_length, "ep_length");
        break;
    case LC_MSG_FRAME:
        ck_assert_int_eq(a->frame.index, b->frame.index);
        same_tensor(&a->frame.rgb, &b->frame.rgb, "rgb");
        break;
    case LC_MSG_HELLO:
        ck_assert_int_eq(a->hello.num_envs, b->hello.num_envs);
        ck_assert_str_eq(a->hello.name, b->hello.name);
        break;
    case LC_MSG_SETUP: {
        const struct lc_msg_setup *x = &a->setup, *y = &b->setup;
        ck_assert_int_eq(x->worker_id, y->worker_id);
        ck_assert_str_eq(x->env, y->env);
        ck_assert_str_eq(x->params, y->params);
        ck_assert_int_eq(x->max_episode_steps, y->max_episode_steps);
        ck_assert_int_eq(x->num_envs, y->num_envs);
        ck_assert_int_eq(x->num_steps, y->num_steps);
        ck_assert(x->seed == y->seed);
        ck_assert_int_eq(x->segments_per_version, y->segments_per_version);
        ck_assert_int_eq(x->heartbeat_ms, y->heartbeat_ms);
        ck_assert_int_eq(x->timeout_ms, y->timeout_ms);
        ck_assert_int_eq(x->normalize_reward, y->normalize_reward);
        ck_assert_float_eq_tol(x->gamma, y->gamma, 1e-7);
        ck_assert_float_eq_tol(x->clip_reward, y->clip_reward, 1e-7);
        ck_assert(x->policy.size == y->policy.size && !memcmp(x->policy.data, y->policy.data, x->policy.size));
        ck_assert(x->model.present == y->model.present && x->model.size == y->model.size &&
                  !memcmp(x->model.data, y->model.data, x->model.size));
        break;
    }
    case LC_MSG_WEIGHTS:
        ck_assert_int_eq(a->weights.version, b->weights.version);
        same_tensor(&a->weights.params, &b->weights.params, "params");
        break;
    case LC_MSG_ROLLOUT: {
        const struct lc_msg_rollout *x = &a->rollout, *y = &b->rollout;
        ck_assert_int_eq(x->version, y->version);
        ck_assert_int_eq(x->worker_id, y->worker_id);
        ck_assert_int_eq(x->T, y->T);
        ck_assert_int_eq(x->N, y->N);
        same_tensor(&x->obs, &y->obs, "obs");
        same_tensor(&x->actions, &y->actions, "actions");
        same_tensor(&x->logp, &y->logp, "logp");
        same_tensor(&x->values, &y->values, "values");
        same_tensor(&x->rewards, &y->rewards, "rewards");
        same_tensor(&x->final_values, &y->final_values, "final_values");
        same_tensor(&x->terminated, &y->terminated, "terminated");
        same_tensor(&x->truncated, &y->truncated, "truncated");
        same_tensor(&x->starts, &y->starts, "starts");
        same_tensor(&x->next_value, &y->next_value, "next_value");
        same_tensor(&x->next_start, &y->next_start, "next_start");
        same_tensor(&x->state0, &y->state0, "state0");
        ck_assert_int_eq(x->episodes, y->episodes);
        ck_assert(x->return_sum == y->return_sum && x->length_sum == y->length_sum);
        break;
    }
    case LC_MSG_BYE: ck_assert_str_eq(a->bye.reason, b->bye.reason); break;
    default: break;
    }
}

// ---------------------------------------------------------------- round trips

START_TEST(test_roundtrip_every_type) {
    fill_buffers();
    lc_proto_counts counts = {0};
    for (int k = 0; k < NSAMPLES; k++) {
        lc_msg m = sample(k), d;
        void *buf;
        size_t len;
        encode(&m, &buf, &len);
        lc_error err = {0};
        ck_assert_msg(lc_proto_decode(&d, buf, len, 0, &counts, &err) == LC_OK, "%s: %s",
                      lc_msg_type_name(m.type), err.msg);
        same_msg(&m, &d);
        // encoding the decoded message gives the same bytes
        void *buf2;
        size_t len2;
        encode(&d, &buf2, &len2);
        ck_assert_uint_eq(len, len2);
        ck_assert(memcmp(buf, buf2, len) == 0);
        free(buf2);
        free(buf);
    }
    ck_assert_uint_eq(counts.ok, NSAMPLES);
    ck_assert_uint_eq(counts.rejected, 0);
    for (int t = 0; t < LC_MSG_COUNT; t++) ck_assert_ptr_nonnull(lc_msg_type_name((lc_msg_type)t));
    ck_assert_ptr_null(lc_msg_type_name(LC_MSG_COUNT));
}
END_TEST

START_TEST(test_optional_fields_default) {
    fill_buffers();
    lc_msg m = lc_msg_init(LC_MSG_MAKE), d;
    void *buf;
    size_t len;
    encode(&m, &buf, &len); // no env, no num_envs: the server's defaults
    ck_assert_int_eq(lc_proto_decode(&d, buf, len, 0, NULL, NULL), LC_OK);
    ck_assert_str_eq(d.make.env, "");
    ck_assert_int_eq(d.make.num_envs, 0);
    free(buf);
    m = lc_msg_init(LC_MSG_RESET); // no seed
    encode(&m, &buf, &len);
    ck_assert_int_eq(lc_proto_decode(&d, buf, len, 0, NULL, NULL), LC_OK);
    ck_assert_int_eq(d.reset.has_seed, 0);
    free(buf);
    m = sample(LC_MSG_TRANSITION); // without the episode-end fields
    m.transition.final_obs.present = m.transition.ep_return.present = m.transition.ep_length.present = 0;
    encode(&m, &buf, &len);
    ck_assert_int_eq(lc_proto_decode(&d, buf, len, 0, NULL, NULL), LC_OK);
    ck_assert(!d.transition.final_obs.present && !d.transition.ep_length.present);
    free(buf);
    m = sample(LC_MSG_SETUP);
    m.setup.model.present = 0;
    encode(&m, &buf, &len);
    ck_assert_int_eq(lc_proto_decode(&d, buf, len, 0, NULL, NULL), LC_OK);
    ck_assert(!d.setup.model.present);
    free(buf);
}
END_TEST

// ---------------------------------------------------------------- malformed input

// Every proper prefix of every valid message is refused, and counted.
START_TEST(test_every_truncation_fails) {
    fill_buffers();
    lc_proto_counts counts = {0};
    uint64_t calls = 0;
    for (int k = 0; k < NSAMPLES; k++) {
        lc_msg m = sample(k), d;
        void *buf;
        size_t len;
        encode(&m, &buf, &len);
        for (size_t n = 0; n < len; n++) {
            void *cut = malloc(n ? n : 1); // exactly n bytes: ASan sees any over-read
            memcpy(cut, buf, n);
            lc_error err = {0};
            int rc = lc_proto_decode(&d, cut, n, 0, &counts, &err);
            ck_assert_msg(rc != LC_OK, "%s cut at %zu/%zu decoded", lc_msg_type_name(m.type), n, len);
            ck_assert(err.msg[0] != '\0');
            ck_assert_int_eq(d.type, 0); // zeroed on failure
            free(cut);
            calls++;
        }
        free(buf);
    }
    ck_assert_uint_eq(counts.rejected, calls);
    ck_assert_uint_eq(counts.ok, 0);
    uint64_t sum = 0;
    for (int c = 0; c < LC_ERR_COUNT; c++) sum += counts.by_code[c];
    ck_assert_uint_eq(sum, calls);
}
END_TEST

enum { R_NIL, R_TRUE, R_POS, R_NEG, R_FLOAT, R_STR, R_BIN, R_ARRAY, R_MAP, R_COUNT };

static int cls(msgpack_object_type t) {
    switch (t) {
    case MSGPACK_OBJECT_NIL: return R_NIL;
    case MSGPACK_OBJECT_BOOLEAN: return R_TRUE;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return R_POS;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return R_FLOAT;
    case MSGPACK_OBJECT_STR: return R_STR;
    case MSGPACK_OBJECT_BIN: return R_BIN;
    case MSGPACK_OBJECT_ARRAY: return R_ARRAY;
    case MSGPACK_OBJECT_MAP: return R_MAP;
    default: return -1;
    }
}

static void pack_repl(msgpack_packer *pk, int r) {
    switch (r) {
    case R_NIL: msgpack_pack_nil(pk); break;
    case R_TRUE: msgpack_pack_true(pk); break;
    case R_POS: msgpack_pack_int(pk, 7); break;
    case R_NEG: msgpack_pack_int(pk, -7); break;
    case R_FLOAT: msgpack_pack_double(pk, 1.5); break;
    case R_STR: msgpack_pack_str(pk, 3), msgpack_pack_str_body(pk, "abc", 3); break;
    case R_BIN: msgpack_pack_bin(pk, 3), msgpack_pack_bin_body(pk, "xyz", 3); break;
    case R_ARRAY: msgpack_pack_array(pk, 1), msgpack_pack_int(pk, 1); break;
    case R_MAP:
        msgpack_pack_map(pk, 1), msgpack_pack_str(pk, 1), msgpack_pack_str_body(pk, "a", 1);
        msgpack_pack_int(pk, 1);
        break;
    }
}

// Packs map with entry i replaced by r (sub >= 0: entry sub of the map at entry i).
static void pack_replaced(msgpack_packer *pk, const msgpack_object_map *map, uint32_t i, int sub, int r) {
    msgpack_pack_map(pk, map->size);
    for (uint32_t j = 0; j < map->size; j++) {
        msgpack_pack_object(pk, map->ptr[j].key);
        if (j != i) msgpack_pack_object(pk, map->ptr[j].val);
        else if (sub < 0) pack_repl(pk, r);
        else pack_replaced(pk, &map->ptr[j].val.via.map, (uint32_t)sub, -1, r);
    }
}

static int decode_replaced(const msgpack_object_map *map, uint32_t i, int sub, int r, lc_error *err) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pack_replaced(&pk, map, i, sub, r);
    lc_msg d;
    int rc = lc_proto_decode(&d, sb.data, sb.size, 0, NULL, err);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

// Whether a value of class r may stand where the original (class o) stood: nil for
// optional fields, integers where numbers are wanted.
static int may_pass(int o, int r) {
    return r == R_NIL || (o == R_FLOAT && (r == R_POS || r == R_NEG)) ||
           (o == R_POS && (r == R_POS || r == R_NEG));
}

START_TEST(test_wrong_type_per_field) {
    fill_buffers();
    int tried = 0;
    for (int k = 0; k < NSAMPLES; k++) {
        lc_msg m = sample(k);
        void *buf;
        size_t len;
        encode(&m, &buf, &len);
        msgpack_zone z;
        msgpack_zone_init(&z, 4096);
        msgpack_object root;
        size_t off = 0;
        ck_assert_int_eq(msgpack_unpack(buf, len, &off, &z, &root), MSGPACK_UNPACK_SUCCESS);
        const msgpack_object_map *map = &root.via.map;
        for (uint32_t i = 0; i < map->size; i++) {
            const msgpack_object *v = &map->ptr[i].val;
            const msgpack_object *key = &map->ptr[i].key;
            if (m.type == LC_MSG_ERROR && key->via.str.size == 4 && !memcmp(key->via.str.ptr, "name", 4))
                continue; // informational: readers ignore it
            for (int r = 0; r < R_COUNT; r++) {
                int o = cls(v->type);
                int rcls = r == R_NEG ? R_POS : r;
                if (rcls == o || may_pass(o, r)) continue;
                lc_error err = {0};
                int rc = decode_replaced(map, i, -1, r, &err);
                ck_assert_msg(rc != LC_OK, "%s: field '%.*s' took a value of class %d",
                              lc_msg_type_name(m.type), (int)key->via.str.size, key->via.str.ptr, r);
                tried++;
            }
            if (v->type != MSGPACK_OBJECT_MAP) continue;
            // inside tensors and spaces
            for (uint32_t s = 0; s < v->via.map.size; s++) {
                int o = cls(v->via.map.ptr[s].val.type);
                for (int r = 0; r < R_COUNT; r++) {
                    int rcls = r == R_NEG ? R_POS : r;
                    if (rcls == o || may_pass(o, r)) continue;
                    lc_error err = {0};
                    int rc = decode_replaced(map, i, (int)s, r, &err);
                    ck_assert_msg(rc != LC_OK, "%s: '%.*s.%.*s' took a value of class %d",
                                  lc_msg_type_name(m.type), (int)key->via.str.size, key->via.str.ptr,
                                  (int)v->via.map.ptr[s].key.via.str.size,
                                  v->via.map.ptr[s].key.via.str.ptr, r);
                    tried++;
                }
            }
        }
        msgpack_zone_destroy(&z);
        free(buf);
    }
    ck_assert_int_gt(tried, 500);
}
END_TEST

static int decode_bytes(const void *p, size_t n, lc_error *err) {
    void *copy = malloc(n ? n : 1);
    memcpy(copy, p, n);
    lc_msg d;
    int rc = lc_proto_decode(&d, copy, n, 0, NULL, err);
    free(copy);
    return rc;
}

START_TEST(test_huge_declared_sizes) {
    static const struct {
        const char *bytes;
        size_t n;
        int code;
    } cases[] = {
        {"\xdd\xff\xff\xff\xff", 5, LC_ERR_SIZE},             // array32 of 4G elements
        {"\xdf\xff\xff\xff\xff\x01", 6, LC_ERR_SIZE},         // map32 of 4G pairs
        {"\xc6\xff\xff\xff\xff\x00", 6, LC_ERR_SIZE},         // bin32 of 4 GB
        {"\xdb\x7f\xff\xff\xff", 5, LC_ERR_SIZE},             // str32
        {"\xc9\xff\xff\xff\xff\x01", 6, LC_ERR_SIZE},         // ext32
        {"\x81\xa1t\xdd\x10\x00\x00\x00", 8, LC_ERR_SIZE},    // a map holding a huge array
        {"\xc1", 1, LC_ERR_PROTO},                            // never-used byte
        {"", 0, LC_ERR_PROTO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lc_error err = {0};
        ck_assert_int_eq(decode_bytes(cases[i].bytes, cases[i].n, &err), cases[i].code);
    }
    // nesting deeper than the cap
    uint8_t deep[64];
    memset(deep, 0x91, sizeof deep); // [[[[...
    deep[63] = 0xc0;
    lc_error err = {0};
    ck_assert_int_eq(decode_bytes(deep, sizeof deep, &err), LC_ERR_PROTO);
    // more values than the cap: {"t": "hello", "v": 1, "x": [nil x 5000]}
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "t", 1);
    msgpack_pack_str(&pk, 5), msgpack_pack_str_body(&pk, "hello", 5);
    msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "v", 1);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "x", 1);
    msgpack_pack_array(&pk, 5000);
    for (int i = 0; i < 5000; i++) msgpack_pack_nil(&pk);
    ck_assert_int_eq(decode_bytes(sb.data, sb.size, &err), LC_ERR_SIZE);
    msgpack_sbuffer_destroy(&sb);
    // a frame over the cap
    fill_buffers();
    lc_msg m = sample(LC_MSG_ROLLOUT), d;
    void *buf;
    size_t len;
    encode(&m, &buf, &len);
    ck_assert_int_eq(lc_proto_decode(&d, buf, len, len - 1, NULL, &err), LC_ERR_SIZE);
    ck_assert_int_eq(lc_proto_decode(&d, buf, len, len, NULL, &err), LC_OK);
    free(buf);
}
END_TEST

// A step message whose actions tensor is given by hand.
static int step_with(const char *dtype, int ndim, const uint64_t *shape, size_t nbytes, lc_error *err) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "t", 1);
    msgpack_pack_str(&pk, 4), msgpack_pack_str_body(&pk, "step", 4);
    msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "v", 1);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_str(&pk, 7), msgpack_pack_str_body(&pk, "actions", 7);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str(&pk, 5), msgpack_pack_str_body(&pk, "dtype", 5);
    msgpack_pack_str(&pk, strlen(dtype)), msgpack_pack_str_body(&pk, dtype, strlen(dtype));
    msgpack_pack_str(&pk, 5), msgpack_pack_str_body(&pk, "shape", 5);
    msgpack_pack_array(&pk, (size_t)ndim);
    for (int i = 0; i < ndim; i++) msgpack_pack_uint64(&pk, shape[i]);
    msgpack_pack_str(&pk, 4), msgpack_pack_str_body(&pk, "data", 4);
    char *zeros = calloc(nbytes + 1, 1);
    msgpack_pack_bin(&pk, nbytes), msgpack_pack_bin_body(&pk, zeros, nbytes);
    free(zeros);
    int rc = decode_bytes(sb.data, sb.size, err);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

START_TEST(test_tensor_checks) {
    lc_error err = {0};
    uint64_t ok[2] = {3, 1}, huge[2] = {1ull << 31, 1ull << 31}, big[2] = {1ull << 30, 1ull << 30};
    uint64_t four[4] = {1ull << 30, 1ull << 30, 1ull << 30, 1ull << 30}, five[5] = {1, 1, 1, 1, 1};
    uint64_t zero[2] = {0, 1};
    ck_assert_int_eq(step_with("i32", 2, ok, 12, &err), LC_OK);
    ck_assert_int_eq(step_with("i32", 2, ok, 11, &err), LC_ERR_SHAPE);  // one byte short
    ck_assert_int_eq(step_with("i32", 2, ok, 13, &err), LC_ERR_SHAPE);  // one byte over
    ck_assert_int_eq(step_with("u8", 2, ok, 3, &err), LC_ERR_TYPE);     // not allowed here
    ck_assert_int_eq(step_with("f16", 2, ok, 6, &err), LC_ERR_TYPE);    // unknown dtype
    ck_assert_int_eq(step_with("i32", 2, huge, 0, &err), LC_ERR_SIZE);  // a dim over 2^31
    ck_assert_int_eq(step_with("i32", 2, big, 0, &err), LC_ERR_SIZE);   // 2^60 elements
    ck_assert_int_eq(step_with("i32", 4, four, 0, &err), LC_ERR_SHAPE); // ndim 4 for actions
    ck_assert_int_eq(step_with("i32", 5, five, 4, &err), LC_ERR_SHAPE); // ndim 5
    ck_assert_int_eq(step_with("i32", 2, zero, 0, &err), LC_ERR_SHAPE); // N = 0
    ck_assert_int_eq(step_with("i32", 0, ok, 4, &err), LC_ERR_SHAPE);   // a scalar
    // shapes that disagree inside a rollout
    fill_buffers();
    lc_msg m = sample(LC_MSG_ROLLOUT), d;
    int64_t wrong[2] = {2, 3};
    m.rollout.values = lc_wire_tensor_of(LC_F32, 2, wrong, f32_a);
    void *buf;
    size_t len;
    encode(&m, &buf, &len);
    ck_assert_int_eq(lc_proto_decode(&d, buf, len, 0, NULL, &err), LC_ERR_SHAPE);
    free(buf);
    m = sample(LC_MSG_TRANSITION);
    int64_t n4 = 4;
    m.transition.rewards = lc_wire_tensor_of(LC_F32, 1, &n4, f32_a);
    encode(&m, &buf, &len);
    ck_assert_int_eq(lc_proto_decode(&d, buf, len, 0, NULL, &err), LC_ERR_SHAPE);
    free(buf);
    m = sample(LC_MSG_ROLLOUT);
    m.rollout.episodes = 7; // more than T * N = 6
    encode(&m, &buf, &len);
    ck_assert_int_eq(lc_proto_decode(&d, buf, len, 0, NULL, &err), LC_ERR_ARG);
    free(buf);
    m = sample(LC_MSG_ROLLOUT);
    m.rollout.return_sum = NAN;
    encode(&m, &buf, &len);
    ck_assert_int_eq(lc_proto_decode(&d, buf, len, 0, NULL, &err), LC_ERR_ARG);
    free(buf);
}
END_TEST

// {"t": t, "v": v} packed with the given value writers.
static int header_only(int vkind, int64_t v, const char *t, lc_error *err) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, vkind < 0 ? 1 : 2);
    msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "t", 1);
    msgpack_pack_str(&pk, strlen(t)), msgpack_pack_str_body(&pk, t, strlen(t));
    if (vkind >= 0) {
        msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "v", 1);
        if (vkind == 0) msgpack_pack_int64(&pk, v);
        else if (vkind == 1) msgpack_pack_uint64(&pk, UINT64_MAX);
        else if (vkind == 2) msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "1", 1);
        else msgpack_pack_double(&pk, 1.0);
    }
    int rc = decode_bytes(sb.data, sb.size, err);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

START_TEST(test_versions_and_types) {
    lc_error err = {0};
    ck_assert_int_eq(header_only(0, 1, "heartbeat", &err), LC_OK);
    ck_assert_int_eq(header_only(0, 0, "heartbeat", &err), LC_ERR_VERSION);
    ck_assert_int_eq(header_only(0, 2, "heartbeat", &err), LC_ERR_VERSION);
    ck_assert(strstr(err.msg, "version 2") != NULL);
    ck_assert_int_eq(header_only(0, -1, "heartbeat", &err), LC_ERR_VERSION);
    ck_assert_int_eq(header_only(1, 0, "heartbeat", &err), LC_ERR_VERSION);
    ck_assert_int_eq(header_only(0, 2, "no-such-type", &err), LC_ERR_VERSION); // version first
    ck_assert_int_eq(header_only(2, 0, "heartbeat", &err), LC_ERR_TYPE);
    ck_assert_int_eq(header_only(3, 0, "heartbeat", &err), LC_ERR_TYPE);
    ck_assert_int_eq(header_only(-1, 0, "heartbeat", &err), LC_ERR_PROTO); // no "v"
    ck_assert_int_eq(header_only(0, 1, "no-such-type", &err), LC_ERR_PROTO);
    ck_assert_int_eq(header_only(0, 1, "a-type-name-longer-than-thirty-two-bytes", &err), LC_ERR_PROTO);
    // not a map, non-string keys, duplicate keys, trailing bytes, NUL in strings
    ck_assert_int_eq(decode_bytes("\x92\x01\x02", 3, &err), LC_ERR_TYPE);
    ck_assert_int_eq(decode_bytes("\x82\x01\x01\xa1v\x01", 6, &err), LC_ERR_TYPE);
    ck_assert_int_eq(decode_bytes("\x83\xa1t\xa3\x62ye\xa1v\x01\xa1v\x01", 13, &err), LC_ERR_PROTO);
    ck_assert_int_eq(decode_bytes("\x82\xa1t\xa3\x62ye\xa1v\x01", 10, &err), LC_OK);
    ck_assert_int_eq(decode_bytes("\x82\xa1t\xa3\x62ye\xa1v\x01\xc0", 11, &err), LC_ERR_PROTO);
    ck_assert_int_eq(decode_bytes("\x83\xa1t\xa3\x62ye\xa1v\x01\xa6reason\xa3\x61\x00\x62", 21, &err),
                     LC_ERR_ARG);
    // unknown keys are ignored
    ck_assert_int_eq(decode_bytes("\x83\xa1t\xa3\x62ye\xa1v\x01\xa5later\x01", 17, &err), LC_OK);
    // missing required fields
    ck_assert_int_eq(decode_bytes("\x82\xa1t\xa4step\xa1v\x01", 11, &err), LC_ERR_PROTO);
    ck_assert(strstr(err.msg, "actions") != NULL);
}
END_TEST

START_TEST(test_random_and_mutated_bytes) {
    fill_buffers();
    lc_rng rng;
    lc_rng_seed(&rng, 20240611, 0);
    lc_proto_counts counts = {0};
    uint64_t calls = 0;
    uint8_t b[512];
    for (int it = 0; it < 20000; it++) {
        size_t n = lc_rng_below(&rng, sizeof b);
        for (size_t i = 0; i < n; i++) b[i] = (uint8_t)lc_rng_u32(&rng);
        if (n && it % 2) b[0] = (uint8_t)(0x80 | (b[0] & 0x0f)); // often a fixmap
        lc_msg d;
        void *copy = malloc(n ? n : 1);
        memcpy(copy, b, n);
        lc_proto_decode(&d, copy, n, 0, &counts, NULL);
        free(copy);
        calls++;
    }
    // valid messages with a few bytes flipped: decoded or refused, never a crash; what
    // decodes re-encodes into something that decodes again
    for (int k = 0; k < NSAMPLES; k++) {
        lc_msg m = sample(k);
        void *buf;
        size_t len;
        encode(&m, &buf, &len);
        for (int it = 0; it < 1500; it++) {
            uint8_t *c = malloc(len);
            memcpy(c, buf, len);
            int flips = 1 + (int)lc_rng_below(&rng, 3);
            for (int f = 0; f < flips; f++) c[lc_rng_below(&rng, (uint32_t)len)] = (uint8_t)lc_rng_u32(&rng);
            lc_msg d;
            lc_error err = {0};
            calls++;
            if (lc_proto_decode(&d, c, len, 0, &counts, &err) == LC_OK) {
                void *b2;
                size_t l2;
                encode(&d, &b2, &l2);
                lc_msg d2;
                ck_assert_msg(lc_proto_decode(&d2, b2, l2, 0, NULL, &err) == LC_OK, "%s", err.msg);
                ck_assert_int_eq(d2.type, d.type);
                free(b2);
            }
            free(c);
        }
        free(buf);
    }
    ck_assert_uint_eq(counts.ok + counts.rejected, calls);
    ck_assert_uint_gt(counts.rejected, calls / 2);
}
END_TEST

// ---------------------------------------------------------------- net helpers

START_TEST(test_endpoints) {
    ck_assert(lc_endpoint_is_local("tcp://127.0.0.1:5555"));
    ck_assert(lc_endpoint_is_local("tcp://127.1.2.3:*"));
    ck_assert(lc_endpoint_is_local("tcp://localhost:5555"));
    ck_assert(lc_endpoint_is_local("tcp://[::1]:5555"));
    ck_assert(lc_endpoint_is_local("tcp://lo:5555"));
    ck_assert(lc_endpoint_is_local("ipc:///tmp/lucid.sock"));
    ck_assert(lc_endpoint_is_local("inproc://x"));
    ck_assert(!lc_endpoint_is_local("tcp://*:5555"));
    ck_assert(!lc_endpoint_is_local("tcp://0.0.0.0:5555"));
    ck_assert(!lc_endpoint_is_local("tcp://10.0.0.1:5555"));
    ck_assert(!lc_endpoint_is_local("tcp://127.0.0.1.evil.com:5555"));
    ck_assert(!lc_endpoint_is_local("tcp://128.0.0.1:5555"));
    ck_assert(!lc_endpoint_is_local("tcp://eth0:5555"));
    ck_assert(!lc_endpoint_is_local("tcp://127.0.0.1:1;10.0.0.1:5555"));
    ck_assert(!lc_endpoint_is_local("udp://127.0.0.1:5555"));
    lc_error err = {0};
    ck_assert_int_eq(lc_net_check_bind("tcp://*:5555", 0, &err), LC_ERR_ARG);
    ck_assert(strstr(err.msg, "--public") != NULL);
    ck_assert_int_eq(lc_net_check_bind("tcp://*:5555", 1, &err), LC_OK);
}
END_TEST

START_TEST(test_curve_key_files) {
    if (!zmq_has("curve")) return;
    char dir[] = "/tmp/lucid-keys-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char base[256], path[300], pub[41], key[41], pub2[41];
    snprintf(base, sizeof base, "%s/w", dir);
    lc_error err = {0};
    ck_assert_int_eq(lc_curve_write_keypair(base, 0, pub, &err), LC_OK);
    ck_assert_int_eq(lc_curve_write_keypair(base, 0, pub, &err), LC_ERR_ARG); // no overwrite
    snprintf(path, sizeof path, "%s.key", base);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 077, 0); // the secret is private
    ck_assert_int_eq(lc_curve_read_key(path, key, &err), LC_OK);
    ck_assert_int_eq(lc_curve_public_of(key, pub2, &err), LC_OK);
    ck_assert_str_eq(pub, pub2);
    snprintf(path, sizeof path, "%s.pub", base);
    ck_assert_int_eq(lc_curve_read_key(path, key, &err), LC_OK);
    ck_assert_str_eq(key, pub);
    unlink(path);
    snprintf(path, sizeof path, "%s.key", base);
    unlink(path);
    // malformed key files
    snprintf(path, sizeof path, "%s/bad", dir);
    const char *bad[] = {"", "short\n", "0123456789012345678901234567890123456789 extra\n",
                         "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *fp = fopen(path, "w");
        fputs(bad[i], fp);
        fclose(fp);
        ck_assert_int_eq(lc_curve_read_key(path, key, &err), LC_ERR_FORMAT);
    }
    unlink(path);
    ck_assert_int_eq(lc_curve_read_key(path, key, &err), LC_ERR_IO);
    rmdir(dir);
}
END_TEST

static Suite *proto_suite(void) {
    Suite *s = suite_create("proto");
    TCase *tc = tcase_create("round trips");
    tcase_add_test(tc, test_roundtrip_every_type);
    tcase_add_test(tc, test_optional_fields_default);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed messages");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_every_truncation_fails);
    tcase_add_test(tc, test_wrong_type_per_field);
    tcase_add_test(tc, test_huge_declared_sizes);
    tcase_add_test(tc, test_tensor_checks);
    tcase_add_test(tc, test_versions_and_types);
    tcase_add_test(tc, test_random_and_mutated_bytes);
    suite_add_tcase(s, tc);
    tc = tcase_create("endpoints and keys");
    tcase_add_test(tc, test_endpoints);
    tcase_add_test(tc, test_curve_key_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(proto_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
