// worldmodel/frame_effects.c: action classes of a frames dataset's steps (frame_effects.h):
// the recording replayed in lockstep with its true actions and checked frame by frame, the
// container I/O, and consistency scored by effect. Leaves out: datasets recorded at a
// reduced side (the replay compares the game's own frames).
//
// Letters: N = frames, A = actions, K = envs of the recording, T = steps per env.
#include "worldmodel/frame_effects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env/env.h"

void lc_frame_effects_free(lc_frame_effects *fx) {
    if (!fx) return;
    free(fx->cls);
    memset(fx, 0, sizeof *fx);
}

// Block k's steps (lc_frames_collect: step t of env k is recorded when t K + k < steps).
static size_t block_steps(size_t steps, int K, int k) {
    size_t T = (steps + (size_t)K - 1) / (size_t)K;
    size_t n = 0;
    for (size_t t = 0; t < T; t++) n += t * (size_t)K + (size_t)k < steps;
    return n;
}

// The first rows of the K blocks into b (K + 1 entries, b[K] = N), from the flags alone.
static int find_blocks(const lc_frames *fr, int K, size_t steps, size_t *b, lc_error *err) {
    size_t r = 0;
    for (int k = 0; k < K; k++) {
        b[k] = r;
        if (r >= fr->n || !fr->starts[r])
            return lc_fail(err, LC_ERR_ARG, "effects: env %d's rows should start at row %zu", k, r);
        r++;
        for (size_t j = block_steps(steps, K, k); j > 0; j--) {
            if (r >= fr->n || fr->starts[r])
                return lc_fail(err, LC_ERR_ARG, "effects: row %zu: not %d envs' layout", r, K);
            if (fr->terminated[r] || fr->truncated[r]) r++; // the next episode's start follows
            r++;
        }
    }
    b[K] = r;
    if (r != fr->n)
        return lc_fail(err, LC_ERR_ARG, "effects: %d envs' rows end at %zu of %zu", K, r, fr->n);
    return LC_OK;
}

static int same_frame(const lc_frames *fr, size_t r, const uint8_t *obs, float rew, int term,
                      int trunc, lc_error *err) {
    size_t S = (size_t)fr->H * fr->W * fr->C;
    if (memcmp(fr->frames + r * S, obs, S) != 0 || fr->rewards[r] != rew ||
        fr->terminated[r] != term || fr->truncated[r] != trunc)
        return lc_fail(err, LC_ERR_ARG, "effects: the replay differs from the data at row %zu "
                       "(another seed, env count or recorder?)", r);
    return LC_OK;
}

int lc_frame_effects_replay(lc_frame_effects *fx, const lc_frames *fr, int num_envs,
                            uint64_t seed, lc_error *err) {
    memset(fx, 0, sizeof *fx);
    if (!fr->actions) return lc_fail(err, LC_ERR_ARG, "effects: the frames have no actions");
    if (num_envs < 1 || num_envs > 4096)
        return lc_fail(err, LC_ERR_ARG, "effects: num_envs %d must be in [1, 4096]", num_envs);
    if (fr->H != fr->game_h || fr->W != fr->game_w || fr->C != fr->game_c)
        return lc_fail(err, LC_ERR_SHAPE, "effects: frames stored at %dx%d, the game's are %dx%d "
                       "(the replay compares the game's frames)", fr->H, fr->W, fr->game_h,
                       fr->game_w);
    const int K = num_envs, A = fr->n_actions;
    size_t steps = 0;
    for (size_t r = 0; r < fr->n; r++) steps += !fr->starts[r];
    size_t *b = malloc((size_t)(K + 1) * sizeof(size_t)), *p = malloc((size_t)K * sizeof(size_t));
    int32_t *acts = malloc((size_t)K * sizeof(int32_t));
    fx->cls = malloc(fr->n * (size_t)A * sizeof(int32_t));
    int rc = b && p && acts && fx->cls ? LC_OK : lc_fail(err, LC_ERR_NOMEM, "effects: out of memory");
    if (!rc) rc = find_blocks(fr, K, steps, b, err);
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = K;
    if (!rc) rc = lc_env_make(&env, fr->env_name, &o, err);
    if (!rc) rc = lc_env_reset(env, seed, err);
    const lc_env_spec *sp = rc ? NULL : lc_env_get_spec(env);
    if (!rc && (sp->act_space.kind != LC_SPACE_DISCRETE || sp->act_space.n != A ||
                (size_t)sp->obs_size != (size_t)fr->H * fr->W * fr->C))
        rc = lc_fail(err, LC_ERR_SHAPE, "effects: %s is not the data's game", fr->env_name);
    const lc_env_buf *B = rc ? NULL : lc_env_get_buf(env);
    const size_t O = rc ? 0 : (size_t)sp->obs_size;
    if (!rc) {
        snprintf(fx->env_name, sizeof fx->env_name, "%s", fr->env_name);
        fx->n = fr->n, fx->n_actions = A;
        for (size_t i = 0; i < fr->n * (size_t)A; i++) fx->cls[i] = -1;
    }
    for (int k = 0; k < K && !rc; k++) {
        p[k] = b[k];
        rc = same_frame(fr, p[k], (const uint8_t *)B->obs + k * O, 0.0f, 0, 0, err);
    }
    size_t T = (steps + (size_t)K - 1) / (size_t)K;
    for (size_t t = 0; t < T && !rc; t++) {
        for (int k = 0; k < K && !rc; k++) {
            int on = t * (size_t)K + (size_t)k < steps;
            acts[k] = on ? fr->actions[p[k] + 1] : 0;
            if (on) rc = lc_env_action_classes(env, k, fx->cls + (p[k] + 1) * (size_t)A, err);
        }
        if (!rc) rc = lc_env_step(env, acts, err);
        for (int k = 0; k < K && !rc; k++) {
            if (t * (size_t)K + (size_t)k >= steps) continue;
            size_t r = p[k] + 1;
            const uint8_t *ob = (const uint8_t *)B->obs + k * O;
            if (B->done[k]) {
                rc = same_frame(fr, r, (const uint8_t *)B->final_obs + k * O, B->rewards[k],
                                B->terminated[k], B->truncated[k], err);
                if (!rc && !(r + 1 < fr->n && fr->starts[r + 1]))
                    rc = lc_fail(err, LC_ERR_ARG, "effects: row %zu should start an episode", r + 1);
                if (!rc) rc = same_frame(fr, ++r, ob, 0.0f, 0, 0, err);
            } else {
                rc = same_frame(fr, r, ob, B->rewards[k], 0, 0, err);
            }
            p[k] = r;
        }
    }
    lc_env_free(env);
    free(b);
    free(p);
    free(acts);
    if (rc) lc_frame_effects_free(fx);
    return rc;
}

int lc_frame_effects_append(lc_frame_effects *dst, const lc_frame_effects *src, lc_error *err) {
    if (strcmp(dst->env_name, src->env_name) || dst->n_actions != src->n_actions)
        return lc_fail(err, LC_ERR_ARG, "effects: %s (%d actions) and %s (%d) do not mix",
                       dst->env_name, dst->n_actions, src->env_name, src->n_actions);
    size_t A = (size_t)dst->n_actions;
    int32_t *c = realloc(dst->cls, (dst->n + src->n) * A * sizeof(int32_t));
    if (!c) return lc_fail(err, LC_ERR_NOMEM, "effects: out of memory");
    memcpy(c + dst->n * A, src->cls, src->n * A * sizeof(int32_t));
    dst->cls = c;
    dst->n += src->n;
    return LC_OK;
}

// ---------------------------------------------------------------- files

int lc_frame_effects_save(const lc_frame_effects *fx, const char *path, lc_error *err) {
    lc_file *f = lc_file_new("frame_effects");
    if (!f) return lc_fail(err, LC_ERR_NOMEM, "effects: out of memory");
    int64_t shape[2] = {(int64_t)fx->n, fx->n_actions};
    lc_file_set_str(f, "env", fx->env_name);
    lc_file_set_int(f, "n", (int64_t)fx->n);
    lc_file_set_int(f, "n_actions", fx->n_actions);
    int rc = lc_file_add(f, "classes", LC_I32, 2, shape, fx->cls, err);
    if (!rc) rc = lc_file_write(f, path, err);
    lc_file_free(f);
    return rc;
}

int lc_frame_effects_from_file(lc_frame_effects *fx, const lc_file *f, const lc_frames *fr,
                               lc_error *err) {
    memset(fx, 0, sizeof *fx);
    if (strcmp(lc_file_kind(f), "frame_effects") != 0)
        return lc_fail(err, LC_ERR_FORMAT, "kind is '%s', not 'frame_effects'", lc_file_kind(f));
    const char *env = NULL;
    int64_t n = 0, A = 0;
    int rc = lc_file_get_str(f, "env", &env, err);
    if (!rc) rc = lc_file_opt_int(f, "n", 1, INT64_MAX / 4096, &n, err);
    if (!rc) rc = lc_file_opt_int(f, "n_actions", 1, 64, &A, err);
    if (rc) return rc;
    if (fr && (strcmp(env, fr->env_name) || (size_t)n != fr->n || A != fr->n_actions))
        return lc_fail(err, LC_ERR_ARG, "effects of %s (%lld rows, %lld actions) are not those "
                       "of the frames (%s, %zu rows, %d actions)", env, (long long)n,
                       (long long)A, fr->env_name, fr->n, fr->n_actions);
    int64_t shape[2] = {n, A};
    const lc_tensor *t = lc_file_expect(f, "classes", LC_I32, 2, shape, err);
    if (!t) return err ? err->code : LC_ERR_FORMAT;
    if ((rc = lc_file_check_claimed(f, "frame effects", NULL, err))) return rc;
    const int32_t *c = t->data;
    for (int64_t r = 0; r < n; r++) {
        const int32_t *row = c + r * A;
        int start = row[0] == -1;
        if (fr && start != fr->starts[r])
            return lc_fail(err, LC_ERR_FORMAT, "effects: row %lld: classes %s, but the frame "
                           "%s a start", (long long)r, start ? "missing" : "given",
                           start ? "is not" : "is");
        for (int64_t a = 0; a < A; a++)
            if (start ? row[a] != -1 : (row[a] < 0 || row[a] > a || row[row[a]] != row[a]))
                return lc_fail(err, LC_ERR_FORMAT, "effects: row %lld: class %d of action %lld "
                               "is invalid", (long long)r, (int)row[a], (long long)a);
    }
    fx->cls = malloc((size_t)t->nbytes);
    if (!fx->cls) return lc_fail(err, LC_ERR_NOMEM, "effects: out of memory");
    memcpy(fx->cls, t->data, (size_t)t->nbytes);
    snprintf(fx->env_name, sizeof fx->env_name, "%s", env);
    fx->n = (size_t)n, fx->n_actions = (int)A;
    return LC_OK;
}

int lc_frame_effects_load(lc_frame_effects *fx, const char *path, const lc_frames *fr,
                          lc_error *err) {
    memset(fx, 0, sizeof *fx);
    lc_file *f = NULL;
    int rc = lc_file_read(path, &f, err);
    if (!rc) rc = lc_frame_effects_from_file(fx, f, fr, err);
    lc_file_free(f);
    if (rc) lc_error_prefix(err, "%s: ", path);
    return rc;
}

// ---------------------------------------------------------------- scoring

int lc_frame_effects_score(const lc_frame_effects *fx, const lc_frames *fr, const size_t *rows,
                           const int *pred, size_t m, lc_effects_score *out, lc_error *err) {
    memset(out, 0, sizeof *out);
    const int A = fx->n_actions;
    if (!fr->actions || fx->n != fr->n || A != fr->n_actions || A > 64)
        return lc_fail(err, LC_ERR_ARG, "effects: not the frames' effects (or no actions)");
    // Groups of interchangeable actions (a bit set per transition) with their true actions'
    // counts, for the ceiling: at most m groups.
    uint64_t *gset = malloc((m ? m : 1) * sizeof(uint64_t));
    size_t *gcount = calloc((m ? m : 1) * (size_t)A, sizeof(size_t));
    if (!gset || !gcount) {
        free(gset);
        free(gcount);
        return lc_fail(err, LC_ERR_NOMEM, "effects: out of memory");
    }
    size_t ng = 0, eff = 0, right_eff = 0, right = 0;
    for (size_t i = 0; i < m; i++) {
        size_t r = rows[i];
        if (r >= fr->n || fr->starts[r] || pred[i] < 0 || pred[i] >= A) {
            free(gset);
            free(gcount);
            return lc_fail(err, LC_ERR_ARG, "effects: row %zu is not a scored step", r);
        }
        const int32_t *c = fx->cls + r * (size_t)A;
        int a = fr->actions[r];
        uint64_t set = 0;
        for (int b = 0; b < A; b++)
            if (c[b] == c[a]) set |= (uint64_t)1 << b;
        int ok = c[pred[i]] == c[a], all = set == (A == 64 ? ~0ULL : ((uint64_t)1 << A) - 1);
        right += ok;
        if (!all) eff++, right_eff += ok;
        size_t g = 0;
        while (g < ng && gset[g] != set) g++;
        if (g == ng) gset[ng++] = set;
        gcount[g * A + a]++;
    }
    size_t best = 0;
    for (size_t g = 0; g < ng; g++) {
        size_t mx = 0;
        for (int a = 0; a < A; a++)
            if (gcount[g * A + a] > mx) mx = gcount[g * A + a];
        best += mx;
    }
    free(gset);
    free(gcount);
    out->m = m;
    out->effective = eff;
    out->effective_frac = m ? (double)eff / m : 0;
    out->consistency_effective = eff ? (double)right_eff / eff : 0;
    out->consistency_merged = m ? (double)right / m : 0;
    out->ceiling = m ? (double)best / m : 0;
    return LC_OK;
}
