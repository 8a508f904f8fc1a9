// worldmodel/frames.c: frame datasets (frames.h): recording random play of a pixel game,
// area-average downsampling, container I/O with validation, the separate actions file.
// Leaves out: recording with a policy (the Genie flow only needs unlabelled random play).
//
// Letters: N = frames, H/W/C = stored shape, GH/GW = the game's frame side, K = envs.
#include "worldmodel/frames.h"
#include "core/settings.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lc_frames_free(lc_frames *fr) {
    if (!fr) return;
    free(fr->frames);
    free(fr->rewards);
    free(fr->starts);
    free(fr->terminated);
    free(fr->truncated);
    free(fr->actions);
    memset(fr, 0, sizeof *fr);
}

static int reserve(lc_frames *fr, size_t cap, int with_actions, lc_error *err) {
    if (cap <= fr->cap) return LC_OK;
    size_t P = (size_t)fr->H * fr->W * fr->C;
    uint8_t *f = realloc(fr->frames, cap * P);
    if (f) fr->frames = f;
    float *r = realloc(fr->rewards, cap * sizeof(float));
    if (r) fr->rewards = r;
    uint8_t *s = realloc(fr->starts, cap);
    if (s) fr->starts = s;
    uint8_t *t = realloc(fr->terminated, cap);
    if (t) fr->terminated = t;
    uint8_t *u = realloc(fr->truncated, cap);
    if (u) fr->truncated = u;
    int32_t *a = with_actions ? realloc(fr->actions, cap * sizeof(int32_t)) : fr->actions;
    if (a) fr->actions = a;
    if (!f || !r || !s || !t || !u || (with_actions && !a))
        return lc_fail(err, LC_ERR_NOMEM, "frames: out of memory for %zu frames", cap);
    fr->cap = cap;
    return LC_OK;
}

// Area average of one (GH, GW, C) u8 frame down to (H, W, C).
static void downsample(uint8_t *dst, const uint8_t *src, int GH, int GW, int C, int H, int W) {
    int fy = GH / H, fx = GW / W;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < C; c++) {
                unsigned acc = 0;
                for (int dy = 0; dy < fy; dy++)
                    for (int dx = 0; dx < fx; dx++)
                        acc += src[((size_t)(y * fy + dy) * GW + (x * fx + dx)) * C + c];
                unsigned n = (unsigned)(fx * fy);
                dst[((size_t)y * W + x) * C + c] = (uint8_t)((acc + n / 2) / n);
            }
}

static int push(lc_frames *fr, const uint8_t *game_frame, float reward, int start, int term,
                int trunc, int32_t action, lc_error *err) {
    if (fr->n == fr->cap) {
        int rc = reserve(fr, fr->cap ? fr->cap * 2 : 1024, 1, err);
        if (rc) return rc;
    }
    size_t P = (size_t)fr->H * fr->W * fr->C;
    downsample(fr->frames + fr->n * P, game_frame, fr->game_h, fr->game_w, fr->C, fr->H, fr->W);
    fr->rewards[fr->n] = reward;
    fr->starts[fr->n] = (uint8_t)start;
    fr->terminated[fr->n] = (uint8_t)term;
    fr->truncated[fr->n] = (uint8_t)trunc;
    fr->actions[fr->n] = action;
    fr->n++;
    return LC_OK;
}

static int append(lc_frames *dst, const lc_frames *src, lc_error *err) {
    int rc = reserve(dst, dst->n + src->n, 1, err);
    if (rc) return rc;
    size_t P = (size_t)dst->H * dst->W * dst->C;
    memcpy(dst->frames + dst->n * P, src->frames, src->n * P);
    memcpy(dst->rewards + dst->n, src->rewards, src->n * sizeof(float));
    memcpy(dst->starts + dst->n, src->starts, src->n);
    memcpy(dst->terminated + dst->n, src->terminated, src->n);
    memcpy(dst->truncated + dst->n, src->truncated, src->n);
    memcpy(dst->actions + dst->n, src->actions, src->n * sizeof(int32_t));
    dst->n += src->n;
    return LC_OK;
}

int lc_frames_concat(lc_frames *dst, const lc_frames *src, lc_error *err) {
    if (strcmp(dst->env_name, src->env_name) || dst->H != src->H || dst->W != src->W ||
        dst->C != src->C || dst->n_actions != src->n_actions)
        return lc_fail(err, LC_ERR_ARG, "frames: %s at %dx%dx%d and %s at %dx%dx%d do not "
                       "concatenate", dst->env_name, dst->H, dst->W, dst->C, src->env_name,
                       src->H, src->W, src->C);
    if (!dst->actions || !src->actions)
        return lc_fail(err, LC_ERR_ARG, "frames: concatenation needs both datasets' actions");
    return append(dst, src, err);
}

int lc_frames_collect(lc_frames *fr, lc_env *env, int64_t steps, int size, uint64_t seed,
                      lc_error *err) {
    return lc_frames_record(fr, env, steps, size, NULL, NULL, seed, err);
}

int lc_frames_record(lc_frames *fr, lc_env *env, int64_t steps, int size,
                     lc_frames_chooser choose, void *ctx, uint64_t seed, lc_error *err) {
    memset(fr, 0, sizeof *fr);
    const lc_env_spec *sp = lc_env_get_spec(env);
    if (sp->obs_space.kind != LC_SPACE_BOX || sp->obs_space.dtype != LC_U8 ||
        sp->obs_space.ndim != 3)
        return lc_fail(err, LC_ERR_ARG, "frames: %s does not give uint8 (H, W, C) frames",
                       sp->name);
    if (sp->act_space.kind != LC_SPACE_DISCRETE)
        return lc_fail(err, LC_ERR_ARG, "frames: %s does not have Discrete actions", sp->name);
    if (steps < 1) return lc_fail(err, LC_ERR_ARG, "frames: steps must be >= 1");
    int GH = sp->obs_space.shape[0], GW = sp->obs_space.shape[1], C = sp->obs_space.shape[2];
    if (size == 0) size = GH;
    if (size < 1 || GH % size || GW % size || GH != GW)
        return lc_fail(err, LC_ERR_ARG, "frames: size %d must divide the game's %dx%d frames", size,
                       GH, GW);
    int K = sp->num_envs;
    lc_frames *per = calloc((size_t)K, sizeof *per);
    int32_t *acts = malloc((size_t)K * sizeof(int32_t));
    uint8_t *first = malloc((size_t)K); // the chooser's episode starts
    if (!per || !acts || !first) {
        free(per);
        free(acts);
        free(first);
        return lc_fail(err, LC_ERR_NOMEM, "frames: out of memory");
    }
    snprintf(fr->env_name, sizeof fr->env_name, "%s", sp->name);
    fr->H = fr->W = size;
    fr->C = C;
    fr->game_h = GH, fr->game_w = GW, fr->game_c = C;
    fr->n_actions = sp->act_space.n;
    fr->max_episode_steps = sp->max_episode_steps;
    for (int k = 0; k < K; k++) {
        per[k] = *fr;
        per[k].n = per[k].cap = 0;
    }
    int rc = lc_env_reset(env, seed, err);
    const lc_env_buf *b = lc_env_get_buf(env);
    size_t O = (size_t)sp->obs_size;
    lc_rng rng;
    lc_rng_seed(&rng, seed, 0x6e1e);
    for (int k = 0; k < K && !rc; k++)
        rc = push(&per[k], (const uint8_t *)b->obs + k * O, 0, 1, 0, 0, -1, err);
    int64_t T = (steps + K - 1) / K;
    for (int k = 0; k < K; k++) first[k] = 1;
    for (int64_t t = 0; t < T && !rc; t++) {
        if (choose) {
            if ((rc = choose(ctx, (const uint8_t *)b->obs, K, first, acts, err))) break;
            for (int k = 0; k < K; k++)
                if (acts[k] < 0 || acts[k] >= fr->n_actions) {
                    rc = lc_fail(err, LC_ERR_ACTION, "frames: the chooser's action %d is not in "
                                 "[0, %d)", (int)acts[k], fr->n_actions);
                    break;
                }
            if (rc) break;
        } else {
            for (int k = 0; k < K; k++) acts[k] = (int32_t)lc_rng_below(&rng, (uint32_t)fr->n_actions);
        }
        if ((rc = lc_env_step(env, acts, err))) break;
        for (int k = 0; k < K; k++) first[k] = b->done[k] != 0;
        for (int k = 0; k < K && !rc; k++) {
            if (t * K + k >= steps) continue; // do not record beyond steps (other envs stepped)
            const uint8_t *o = (const uint8_t *)b->obs + k * O;
            if (b->done[k]) {
                rc = push(&per[k], (const uint8_t *)b->final_obs + k * O, b->rewards[k], 0,
                          b->terminated[k], b->truncated[k], acts[k], err);
                if (!rc) rc = push(&per[k], o, 0, 1, 0, 0, -1, err);
            } else {
                rc = push(&per[k], o, b->rewards[k], 0, 0, 0, acts[k], err);
            }
        }
    }
    for (int k = 0; k < K && !rc; k++) rc = append(fr, &per[k], err);
    for (int k = 0; k < K; k++) lc_frames_free(&per[k]);
    free(per);
    free(acts);
    free(first);
    if (rc) lc_frames_free(fr);
    return rc;
}

size_t lc_frames_episodes(const lc_frames *fr) {
    size_t e = 0;
    for (size_t r = 0; r < fr->n; r++) e += fr->starts[r];
    return e;
}

int lc_frames_validate(const lc_frames *fr, lc_error *err) {
    if (fr->n == 0) return lc_fail(err, LC_ERR_SHAPE, "frames: no frames");
    if (!fr->starts[0]) return lc_fail(err, LC_ERR_FORMAT, "frames: row 0 is not an episode start");
    for (size_t r = 0; r < fr->n; r++) {
        if (fr->starts[r] > 1 || fr->terminated[r] > 1 || fr->truncated[r] > 1)
            return lc_fail(err, LC_ERR_FORMAT, "frames: row %zu: a flag is not 0 or 1", r);
        if (fr->terminated[r] && fr->truncated[r])
            return lc_fail(err, LC_ERR_FORMAT, "frames: row %zu both terminated and truncated", r);
        if (fr->starts[r] && (fr->terminated[r] || fr->truncated[r] || fr->rewards[r] != 0))
            return lc_fail(err, LC_ERR_FORMAT, "frames: row %zu is a start with an end or reward", r);
        if (!isfinite(fr->rewards[r]))
            return lc_fail(err, LC_ERR_NAN, "frames: row %zu: reward is not finite", r);
        if ((fr->terminated[r] || fr->truncated[r]) && r + 1 < fr->n && !fr->starts[r + 1])
            return lc_fail(err, LC_ERR_FORMAT, "frames: row %zu ends an episode but row %zu is "
                           "not a start", r, r + 1);
        if (fr->actions) {
            int32_t a = fr->actions[r];
            if (fr->starts[r] ? a != -1 : (a < 0 || a >= fr->n_actions))
                return lc_fail(err, LC_ERR_FORMAT, "frames: row %zu: action %d is invalid", r,
                               (int)a);
        }
    }
    return LC_OK;
}

int lc_frames_save(const lc_frames *fr, const char *path, const char *actions_path,
                   lc_error *err) {
    int rc = lc_frames_validate(fr, err);
    if (rc) return rc;
    lc_file *f = lc_file_new("frames");
    if (!f) return lc_fail(err, LC_ERR_NOMEM, "frames: out of memory");
    int64_t N = (int64_t)fr->n;
    int64_t fs[4] = {N, fr->H, fr->W, fr->C};
    lc_file_set_str(f, "env", fr->env_name);
    lc_file_set_int(f, "n", N);
    lc_file_set_int(f, "game_h", fr->game_h);
    lc_file_set_int(f, "game_w", fr->game_w);
    lc_file_set_int(f, "game_c", fr->game_c);
    lc_file_set_int(f, "n_actions", fr->n_actions);
    lc_file_set_int(f, "max_episode_steps", fr->max_episode_steps);
    lc_file_set_int(f, "episodes", (int64_t)lc_frames_episodes(fr));
    if (!rc) rc = lc_file_add(f, "frames", LC_U8, 4, fs, fr->frames, err);
    if (!rc) rc = lc_file_add(f, "rewards", LC_F32, 1, &N, fr->rewards, err);
    if (!rc) rc = lc_file_add(f, "starts", LC_U8, 1, &N, fr->starts, err);
    if (!rc) rc = lc_file_add(f, "terminated", LC_U8, 1, &N, fr->terminated, err);
    if (!rc) rc = lc_file_add(f, "truncated", LC_U8, 1, &N, fr->truncated, err);
    if (!rc) rc = lc_file_write(f, path, err);
    lc_file_free(f);
    if (rc || !actions_path) return rc;
    if (!fr->actions) return lc_fail(err, LC_ERR_ARG, "frames: no actions to write");
    f = lc_file_new("frame_actions");
    if (!f) return lc_fail(err, LC_ERR_NOMEM, "frames: out of memory");
    lc_file_set_str(f, "env", fr->env_name);
    lc_file_set_int(f, "n", N);
    lc_file_set_int(f, "n_actions", fr->n_actions);
    rc = lc_file_add(f, "actions", LC_I32, 1, &N, fr->actions, err);
    if (!rc) rc = lc_file_write(f, actions_path, err);
    lc_file_free(f);
    return rc;
}

static int load_frames(lc_frames *fr, const lc_file *f, lc_error *err) {
    if (strcmp(lc_file_kind(f), "frames") != 0)
        return lc_fail(err, LC_ERR_FORMAT, "kind is '%s', not 'frames'", lc_file_kind(f));
    const char *env = NULL;
    int rc;
    if ((rc = lc_file_get_str(f, "env", &env, err))) return rc;
    snprintf(fr->env_name, sizeof fr->env_name, "%s", env);
    if ((rc = lc_file_get_i32_in(f, "game_h", 1, 4096, &fr->game_h, err)) ||
        (rc = lc_file_get_i32_in(f, "game_w", 1, 4096, &fr->game_w, err)) ||
        (rc = lc_file_get_i32_in(f, "game_c", 1, 4, &fr->game_c, err)) ||
        (rc = lc_file_get_i32_in(f, "n_actions", 1, 1 << 20, &fr->n_actions, err)) ||
        (rc = lc_file_get_i32_in(f, "max_episode_steps", 0, 1 << 30, &fr->max_episode_steps, err)))
        return rc;
    int64_t any4[4] = {-1, -1, -1, -1};
    const lc_tensor *t = lc_file_expect(f, "frames", LC_U8, 4, any4, err);
    if (!t) return err ? err->code : LC_ERR_FORMAT;
    if (t->shape[0] < 1 || t->shape[1] < 1 || t->shape[1] != t->shape[2] ||
        t->shape[3] != fr->game_c || fr->game_h % t->shape[1] || fr->game_w % t->shape[2])
        return lc_fail(err, LC_ERR_SHAPE, "frames tensor shape does not fit the game's frames");
    fr->n = fr->cap = (size_t)t->shape[0];
    fr->H = (int)t->shape[1], fr->W = (int)t->shape[2], fr->C = (int)t->shape[3];
    int64_t N = (int64_t)fr->n;
    const lc_tensor *r = lc_file_expect(f, "rewards", LC_F32, 1, &N, err);
    const lc_tensor *s = r ? lc_file_expect(f, "starts", LC_U8, 1, &N, err) : NULL;
    const lc_tensor *te = s ? lc_file_expect(f, "terminated", LC_U8, 1, &N, err) : NULL;
    const lc_tensor *tr = te ? lc_file_expect(f, "truncated", LC_U8, 1, &N, err) : NULL;
    if (!tr) return err ? err->code : LC_ERR_FORMAT;
    fr->frames = malloc(t->nbytes);
    fr->rewards = malloc(r->nbytes);
    fr->starts = malloc(fr->n);
    fr->terminated = malloc(fr->n);
    fr->truncated = malloc(fr->n);
    if (!fr->frames || !fr->rewards || !fr->starts || !fr->terminated || !fr->truncated)
        return lc_fail(err, LC_ERR_NOMEM, "out of memory for %zu frames", fr->n);
    memcpy(fr->frames, t->data, t->nbytes);
    memcpy(fr->rewards, r->data, r->nbytes);
    memcpy(fr->starts, s->data, fr->n);
    memcpy(fr->terminated, te->data, fr->n);
    memcpy(fr->truncated, tr->data, fr->n);
    int64_t n64 = 0;
    if ((rc = lc_file_opt_int(f, "n", N, N, &n64, err)) ||
        (rc = lc_file_opt_int(f, "episodes", 0, N, &n64, err)))
        return rc;
    return lc_file_check_claimed(f, "frames", NULL, err);
}

static int load_actions(lc_frames *fr, const lc_file *f, lc_error *err) {
    if (strcmp(lc_file_kind(f), "frame_actions") != 0)
        return lc_fail(err, LC_ERR_FORMAT, "kind is '%s', not 'frame_actions'", lc_file_kind(f));
    const char *env = NULL;
    int rc = lc_file_get_str(f, "env", &env, err);
    if (rc) return rc;
    if (strcmp(env, fr->env_name) != 0)
        return lc_fail(err, LC_ERR_ARG, "actions are of %s, frames of %s", env, fr->env_name);
    int64_t N = (int64_t)fr->n;
    const lc_tensor *t = lc_file_expect(f, "actions", LC_I32, 1, &N, err);
    if (!t) return err ? err->code : LC_ERR_FORMAT;
    fr->actions = malloc(t->nbytes);
    if (!fr->actions) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    memcpy(fr->actions, t->data, t->nbytes);
    int64_t v = 0;
    if ((rc = lc_file_opt_int(f, "n", N, N, &v, err)) ||
        (rc = lc_file_opt_int(f, "n_actions", fr->n_actions, fr->n_actions, &v, err)))
        return rc;
    return lc_file_check_claimed(f, "frame actions", NULL, err);
}

int lc_frames_from_file(lc_frames *fr, const lc_file *f, const lc_file *actions, lc_error *err) {
    memset(fr, 0, sizeof *fr);
    int rc = load_frames(fr, f, err);
    if (!rc && actions) rc = load_actions(fr, actions, err);
    if (!rc) rc = lc_frames_validate(fr, err);
    if (rc) lc_frames_free(fr);
    return rc;
}

int lc_frames_load(lc_frames *fr, const char *path, const char *actions_path, lc_error *err) {
    memset(fr, 0, sizeof *fr);
    lc_file *f = NULL;
    int rc = lc_file_read(path, &f, err);
    if (rc) return rc;
    rc = load_frames(fr, f, err);
    lc_file_free(f);
    if (rc) {
        lc_error_prefix(err, "%s: ", path);
        lc_frames_free(fr);
        return rc;
    }
    if (actions_path) {
        f = NULL;
        if ((rc = lc_file_read(actions_path, &f, err))) {
            lc_frames_free(fr);
            return rc;
        }
        rc = load_actions(fr, f, err);
        lc_file_free(f);
        if (rc) {
            lc_error_prefix(err, "%s: ", actions_path);
            lc_frames_free(fr);
            return rc;
        }
    }
    if ((rc = lc_frames_validate(fr, err))) {
        lc_error_prefix(err, "%s: ", path);
        lc_frames_free(fr);
    }
    return rc;
}
