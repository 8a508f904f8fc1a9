// worldmodel/genie_env.c: the env behind "dream:GENIE.lucid" for the pixel design (genie.h):
// batched dynamics steps, halting, relabelling, rendering, params, and lc_genie_view.
// Leaves out: thread splitting (one batched pass over all envs).
//
// N = envs, P = model frame floats, R = model side, C = channels.
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worldmodel/genie_impl.h"

#include "core/settings.h"


typedef struct genie_env {
    lc_genie *g; // owned
    int N;
    float *prev, *cur, *next; // (N, P)
    int *codes;               // (N)
    float *logits;            // (N)
    float *work;
    float halt;               // penalty of the halt state (< 0: no halting)
    float *dwork, *dis;       // lc_genie_disagree work, (N) disagreements
    int relabel;              // 1: a step the LAM reads as another action is played as that one
    int n_actions;            // K (actions=all) or the number of played codes (actions=played)
    int act_code[256];        // (n_actions) the code each action plays
    float *x3, *next2, *rew2, *logits2; // (3N, P) prev/cur/next triples, (N, P), (N), (N)
    size_t *t3;               // (N) triple centres in x3
    int *seen, *codes2;       // (N) the LAM's reading, the codes replayed
    lam_buf lb;               // the LAM encoder's buffers, lb_cap rows (relabel)
    int lb_cap;
} genie_env;

static void genie_env_destroy(void *data) {
    genie_env *e = data;
    if (!e) return;
    lc_genie_free(e->g);
    free(e->prev);
    free(e->cur);
    free(e->next);
    free(e->codes);
    free(e->logits);
    free(e->work);
    free(e->dwork);
    free(e->dis);
    free(e->x3), free(e->next2), free(e->rew2), free(e->logits2), free(e->t3), free(e->seen),
        free(e->codes2);
    lc_genie_lam_buf_free(&e->lb);
    free(e);
}

// Model frame (C, R, R) in [0, 1] -> game frame (GH, GW, C) uint8, nearest upsampling.
void lc_genie_upsample(const lc_genie *g, const float *x, uint8_t *o) {
    int R = g->R, C = g->C, GH = g->game_h, GW = g->game_w, fy = GH / R, fx = GW / R;
    for (int y = 0; y < GH; y++)
        for (int xx = 0; xx < GW; xx++)
            for (int c = 0; c < C; c++) {
                float v = x[((size_t)c * R + y / fy) * R + xx / fx];
                v = clamp01(v);
                o[((size_t)y * GW + xx) * C + c] = (uint8_t)lrintf(v * 255.0f);
            }
}

void lc_genie_view(const lc_genie *g, const uint8_t *frame, float *work, uint8_t *out) {
    lc_genie_prep(g, frame, g->game_h, work);
    lc_genie_upsample(g, work, out);
}

static void genie_env_reset(void *data, int i, lc_rng *rng, void *obs_row) {
    genie_env *e = data;
    const lc_genie *g = e->g;
    size_t s = lc_rng_below(rng, (uint32_t)g->n_starts);
    memcpy(e->prev + (size_t)i * g->P, g->starts + s * 2 * g->P, g->P * sizeof(float));
    memcpy(e->cur + (size_t)i * g->P, g->starts + s * 2 * g->P + g->P, g->P * sizeof(float));
    lc_genie_upsample(g, e->cur + (size_t)i * g->P, obs_row);
}

int lc_genie_env_start_at(void *data, int i, const uint8_t *prev, const uint8_t *cur,
                          uint8_t *obs_row, lc_error *err) {
    (void)err;
    genie_env *e = data;
    const lc_genie *g = e->g;
    assert(i >= 0 && i < e->N);
    lc_genie_prep(g, prev, g->game_h, e->prev + (size_t)i * g->P);
    lc_genie_prep(g, cur, g->game_h, e->cur + (size_t)i * g->P);
    lc_genie_upsample(g, e->cur + (size_t)i * g->P, obs_row);
    return LC_OK;
}

static void genie_env_step(void *data, int i0, int i1, const void *actions, void *obs,
                           float *rewards, uint8_t *terminated, float *info, lc_rng *rngs) {
    (void)info;
    (void)rngs;
    genie_env *e = data;
    const lc_genie *g = e->g;
    int n = i1 - i0, P = g->P;
    if (n <= 0) return;
    const int32_t *a = (const int32_t *)actions + i0;
    for (int b = 0; b < n; b++) e->codes[b] = e->act_code[a[b]];
    float *pv = e->prev + (size_t)i0 * P, *cu = e->cur + (size_t)i0 * P;
    lc_genie_dyn_step(g, e->work, pv, cu, e->codes, n, e->next, rewards + i0, e->logits);
    if (e->relabel) { // the LAM reads each generated step; where it reads another action, replay
        for (int b = 0; b < n; b++) {
            memcpy(e->x3 + (size_t)(3 * b) * P, pv + (size_t)b * P, P * sizeof(float));
            memcpy(e->x3 + (size_t)(3 * b + 1) * P, cu + (size_t)b * P, P * sizeof(float));
            memcpy(e->x3 + (size_t)(3 * b + 2) * P, e->next + (size_t)b * P, P * sizeof(float));
            e->t3[b] = (size_t)(3 * b + 1);
        }
        lc_genie_lam_read(g, &e->lb, e->lb_cap, e->x3, e->t3, n, e->seen);
        int any = 0;
        for (int b = 0; b < n; b++) {
            e->codes2[b] = g->code_alias[e->seen[b]];
            any |= e->codes2[b] != e->codes[b];
        }
        if (any) {
            lc_genie_dyn_step(g, e->work, pv, cu, e->codes2, n, e->next2, e->rew2, e->logits2);
            for (int b = 0; b < n; b++) {
                if (e->codes2[b] == e->codes[b]) continue;
                memcpy(e->next + (size_t)b * P, e->next2 + (size_t)b * P, P * sizeof(float));
                rewards[i0 + b] = e->rew2[b];
                e->logits[b] = e->logits2[b];
                e->codes[b] = e->codes2[b];
            }
        }
    }
    if (e->dwork) lc_genie_disagree(g, e->dwork, pv, cu, e->codes, n, e->next, e->dis);
    size_t O = (size_t)g->game_h * g->game_w * g->game_c;
    for (int b = 0; b < n; b++) {
        memcpy(pv + (size_t)b * P, cu + (size_t)b * P, P * sizeof(float));
        memcpy(cu + (size_t)b * P, e->next + (size_t)b * P, P * sizeof(float));
        lc_genie_upsample(g, cu + (size_t)b * P, (uint8_t *)obs + (size_t)(i0 + b) * O);
        terminated[i0 + b] = e->logits[b] > 0.0f;
        if (e->dwork && e->dis[b] > g->halt_disagree) { // off the data: MOReL's halt state
            terminated[i0 + b] = 1;
            rewards[i0 + b] = -e->halt;
        }
    }
}

static int genie_env_render(void *data, int i, uint8_t *rgb, int w, int h) {
    genie_env *e = data;
    const lc_genie *g = e->g;
    const float *x = e->cur + (size_t)i * g->P;
    int R = g->R, C = g->C;
    for (int y = 0; y < h; y++)
        for (int xx = 0; xx < w; xx++) {
            int my = y * R / h, mx = xx * R / w;
            for (int c = 0; c < 3; c++) {
                float v = x[((size_t)(C == 3 ? c : 0) * R + my) * R + mx];
                v = clamp01(v);
                rgb[((size_t)y * w + xx) * 3 + c] = (uint8_t)lrintf(v * 255.0f);
            }
        }
    return 0;
}

// Splits "dream:PATH?PARAMS" into the path and the params (NULL when there are none).
int lc_genie_dream_path(const char *name, char *path, size_t n, const char **params,
                        lc_error *err) {
    const char *p = strncmp(name, "dream:", 6) == 0 ? name + 6 : name;
    const char *q = strchr(p, '?');
    size_t len = q ? (size_t)(q - p) : strlen(p);
    if (len == 0 || len >= n)
        return lc_fail(err, LC_ERR_ARG, "genie dream: bad model path in '%s'", name);
    memcpy(path, p, len);
    path[len] = '\0';
    *params = q ? q + 1 : NULL;
    return LC_OK;
}

// The pixel dream's params, on the one key=value parser (core/settings.h): horizon=H,
// halt=PENALTY|off, relabel=0|1, actions=all|played.
typedef struct genie_params {
    int horizon;
    float halt;  // < 0: off
    int relabel;
    int actions; // 0 all, 1 played
} genie_params;
static const lc_setting GENIE_ROWS[] = {
    {"horizon", LC_SET_INT, offsetof(genie_params, horizon), 200, 1, 1000000, 1, "time limit", NULL},
    {"halt", LC_SET_FLOAT, offsetof(genie_params, halt), -1, 0, 1e6, 1,
     "penalty when the two nets disagree past the training maximum; off: never halt", "off=-1"},
    {"relabel", LC_SET_BOOL, offsetof(genie_params, relabel), 0, 0, 1, 1,
     "1: the LAM re-reads each generated step", NULL},
    {"actions", LC_SET_ENUM, offsetof(genie_params, actions), 0, 0, 0, 1,
     "the latent actions offered", "all|played"},
};
static const lc_settings GENIE_PARAMS = {"genie dream", GENIE_ROWS, 4};

// Parses s over the four values (absent keys keep theirs).
static int parse_params(const char *s, int *horizon, float *halt, int *relabel, int *played,
                        lc_error *err) {
    genie_params p = {*horizon, *halt, *relabel, *played};
    int rc = lc_settings_parse(&GENIE_PARAMS, &p, s, err);
    if (!rc) *horizon = p.horizon, *halt = p.halt, *relabel = p.relabel, *played = p.actions;
    return rc;
}

int lc_genie_env_of(lc_env_impl *impl, lc_genie *model, const char *params, int num_envs,
                    const lc_env_opts *opts, lc_error *err) {
    int rc;
    if (num_envs < 1) {
        lc_genie_free(model);
        return lc_fail(err, LC_ERR_ARG, "genie dream: num_envs must be >= 1");
    }
    genie_env *e = calloc(1, sizeof *e);
    if (!e) {
        lc_genie_free(model);
        return lc_fail(err, LC_ERR_NOMEM, "genie dream: out of memory");
    }
    e->g = model;
    int horizon = e->g->cfg.horizon;
    e->halt = -1.0f; // off unless asked for (measured: in Catch it halted the dream's own drift)
    int played = 0;
    if ((rc = parse_params(params, &horizon, &e->halt, &e->relabel, &played, err)) ||
        (opts && (rc = parse_params(opts->params, &horizon, &e->halt, &e->relabel, &played, err)))) {
        genie_env_destroy(e);
        return rc;
    }
    e->n_actions = e->g->cfg.n_codes;
    for (int a = 0; a < e->n_actions; a++) e->act_code[a] = e->g->code_alias[a];
    if (played) e->n_actions = lc_genie_played_codes(e->g, e->act_code);
    size_t n = (size_t)num_envs, P = e->g->P;
    e->N = num_envs;
    e->prev = calloc(n * P, sizeof(float));
    e->cur = calloc(n * P, sizeof(float));
    e->next = calloc(n * P, sizeof(float));
    e->codes = calloc(n, sizeof(int));
    e->logits = calloc(n, sizeof(float));
    e->work = calloc(lc_genie_dyn_work(e->g, num_envs), sizeof(float));
    if (e->halt >= 0 && e->g->halt_disagree > 0) {
        e->dwork = malloc(lc_genie_disagree_work(e->g, num_envs) * sizeof(float));
        e->dis = malloc(n * sizeof(float));
    }
    int lb_ok = 1;
    if (e->relabel) {
        e->lb_cap = num_envs < 256 ? num_envs : 256;
        lb_ok = lc_genie_lam_buf_init(&e->lb, e->g, e->lb_cap, 0, NULL) == LC_OK;
        e->x3 = malloc(3 * n * P * sizeof(float));
        e->next2 = malloc(n * P * sizeof(float));
        e->rew2 = malloc(n * sizeof(float));
        e->logits2 = malloc(n * sizeof(float));
        e->t3 = malloc(n * sizeof(size_t));
        e->seen = malloc(n * sizeof(int));
        e->codes2 = malloc(n * sizeof(int));
    }
    if (!e->prev || !e->cur || !e->next || !e->codes || !e->logits || !e->work ||
        (e->halt >= 0 && e->g->halt_disagree > 0 && (!e->dwork || !e->dis)) ||
        (e->relabel && (!lb_ok || !e->x3 || !e->next2 || !e->rew2 || !e->logits2 || !e->t3 ||
                        !e->seen || !e->codes2))) {
        genie_env_destroy(e);
        return lc_fail(err, LC_ERR_NOMEM, "genie dream: out of memory for %d envs", num_envs);
    }
    const lc_genie *g = e->g;
    memset(impl, 0, sizeof *impl);
    int shape[3] = {g->game_h, g->game_w, g->game_c};
    impl->obs_space = lc_space_box_scalar(LC_U8, 3, shape, 0.0f, 255.0f);
    impl->act_space = lc_space_discrete(e->n_actions);
    impl->max_episode_steps = horizon;
    impl->can_split = 0;
    impl->render_w = g->game_w * 4;
    impl->render_h = g->game_h * 4;
    impl->data = e;
    impl->reset = genie_env_reset;
    impl->step = genie_env_step;
    impl->render = genie_env_render;
    impl->destroy = genie_env_destroy;
    return LC_OK;
}

