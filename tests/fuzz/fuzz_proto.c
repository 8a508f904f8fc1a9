// tests/fuzz/fuzz_proto.c: libFuzzer target for the wire protocol's decoder
// (lc_proto_decode): any bytes are decoded or refused, never crash or over-read; what
// decodes re-encodes into bytes that decode to the same type. Built by `make fuzz`.
// Leaves out: sockets. LLVMFuzzerInitialize seeds the corpus folder with one valid
// message of each type when that folder is empty.
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/proto.h"

static void write_seed(const char *dir, const char *name, const lc_msg *m) {
    void *buf;
    size_t len;
    if (lc_proto_encode(m, &buf, &len, NULL) != LC_OK) return;
    char path[4096];
    snprintf(path, sizeof path, "%s/seed-%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (fp) {
        fwrite(buf, 1, len, fp);
        fclose(fp);
    }
    free(buf);
}

static void seed_corpus(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));) entries += e->d_name[0] != '.';
    closedir(d);
    if (entries) return;
    static float f[64];
    static int32_t a[16];
    static uint8_t u[64];
    int64_t tno[3] = {4, 2, 4}, tna[3] = {4, 2, 1}, tn[2] = {4, 2}, n2 = 2, s21[2] = {2, 1};
    int64_t s24[2] = {2, 4}, rgb[3] = {2, 2, 3}, p8 = 8;
    for (int t = 0; t < LC_MSG_COUNT; t++) {
        lc_msg m = lc_msg_init((lc_msg_type)t);
        switch (t) {
        case LC_MSG_ERROR: m.error.code = LC_ERR_PROTO; strcpy(m.error.msg, "bad"); break;
        case LC_MSG_MAKE: strcpy(m.make.env, "CartPole-v1"); m.make.num_envs = 2; break;
        case LC_MSG_RESET: m.reset.has_seed = 1; m.reset.seed = 7; break;
        case LC_MSG_STEP: m.step.actions = lc_wire_tensor_of(LC_I32, 2, s21, a); break;
        case LC_MSG_RENDER: m.render.index = 1; break;
        case LC_MSG_ENV: {
            strcpy(m.env.name, "CartPole-v1");
            m.env.num_envs = 2;
            int sh[1] = {4};
            m.env.obs_space = lc_space_box_scalar(LC_F32, 1, sh, -1, 1);
            m.env.act_space = lc_space_discrete(2);
            break;
        }
        case LC_MSG_OBS: m.obs.obs = lc_wire_tensor_of(LC_F32, 2, s24, f); break;
        case LC_MSG_TRANSITION:
            m.transition.obs = m.transition.final_obs = lc_wire_tensor_of(LC_F32, 2, s24, f);
            m.transition.rewards = m.transition.ep_return = lc_wire_tensor_of(LC_F32, 1, &n2, f);
            m.transition.terminated = m.transition.truncated = lc_wire_tensor_of(LC_U8, 1, &n2, u);
            m.transition.ep_length = lc_wire_tensor_of(LC_I32, 1, &n2, a);
            break;
        case LC_MSG_FRAME: m.frame.rgb = lc_wire_tensor_of(LC_U8, 3, rgb, u); break;
        case LC_MSG_HELLO: m.hello.num_envs = 2; strcpy(m.hello.name, "w"); break;
        case LC_MSG_SETUP:
            strcpy(m.setup.env, "CartPole-v1");
            m.setup.policy = (lc_wire_bytes){1, 4, "file"};
            break;
        case LC_MSG_WEIGHTS: m.weights.params = lc_wire_tensor_of(LC_F32, 1, &p8, f); break;
        case LC_MSG_ROLLOUT: {
            struct lc_msg_rollout *x = &m.rollout;
            x->obs = lc_wire_tensor_of(LC_F32, 3, tno, f);
            x->actions = lc_wire_tensor_of(LC_I32, 3, tna, a);
            x->logp = x->values = x->rewards = x->final_values = lc_wire_tensor_of(LC_F32, 2, tn, f);
            x->terminated = x->truncated = x->starts = lc_wire_tensor_of(LC_U8, 2, tn, u);
            x->next_value = lc_wire_tensor_of(LC_F32, 1, &n2, f);
            x->next_start = lc_wire_tensor_of(LC_U8, 1, &n2, u);
            break;
        }
        default: break;
        }
        write_seed(dir, lc_msg_type_name((lc_msg_type)t), &m);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    for (int i = 1; i < *argc; i++)
        if ((*argv)[i][0] != '-') {
            seed_corpus((*argv)[i]);
            break;
        }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lc_msg m;
    lc_proto_counts counts = {0};
    if (lc_proto_decode(&m, data, size, 0, &counts, NULL) != LC_OK) {
        if (counts.rejected != 1) __builtin_trap();
        return 0;
    }
    void *buf;
    size_t len;
    if (lc_proto_encode(&m, &buf, &len, NULL) != LC_OK) return 0;
    lc_msg again;
    lc_error err;
    if (lc_proto_decode(&again, buf, len, 0, NULL, &err) != LC_OK || again.type != m.type)
        __builtin_trap();
    free(buf);
    return 0;
}
