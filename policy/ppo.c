// policy/ppo.c: the PPO loss and update (CleanRL's ppo.py, by hand), configuration
// defaults per env family, and the trainer: collect, update, checkpoint, resume.
// Leaves out: rollout collection and GAE (policy/rollout.c), evaluation (evaluate.c).
//
// T = steps, N = envs, M = minibatch rows (samples, or T x columns when recurrent),
// O = obs elements, A = action elements, S = recurrent state.
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/progress.h"
#include "policy/ppo.h"

// ---------------------------------------------------------------- config

static const lc_setting PPO_ROWS[] = {
#define ROW(...) LC_SETTING_ROW_(lc_ppo_cfg, __VA_ARGS__)
    LC_PPO_SETTINGS(ROW)
#undef ROW
};
static const lc_settings PPO_SETTINGS = {"ppo", PPO_ROWS, (int)(sizeof PPO_ROWS / sizeof PPO_ROWS[0])};

const lc_settings *lc_ppo_settings(void) { return &PPO_SETTINGS; }

lc_ppo_cfg lc_ppo_cfg_default(void) {
    lc_ppo_cfg c;
    memset(&c, 0, sizeof c);
    lc_settings_defaults(&PPO_SETTINGS, &c);
    c.checkpoint_path = NULL;
    return c;
}

void lc_ppo_cfg_for_spaces(lc_ppo_cfg *cfg, lc_policy_cfg *pcfg, const lc_space *obs,
                           const lc_space *act) {
    *cfg = lc_ppo_cfg_default();
    lc_policy_cfg pc = lc_policy_cfg_default();
    if (obs->kind == LC_SPACE_BOX && obs->dtype == LC_U8 && obs->ndim == 3) {
        // ppo_atari.py, scaled to lucid's 64x64 games.
        cfg->total_steps = 10000000;
        cfg->num_envs = 8;
        cfg->num_steps = 128;
        cfg->lr = 2.5e-4f;
        cfg->clip_coef = 0.1f;
        snprintf(pc.arch, sizeof pc.arch, "cnn");
        pc.shared = 1;
        pc.act = LC_ACT_RELU;
        pc.cnn_features = 256;
    } else if (act->kind == LC_SPACE_BOX) {
        // ppo_continuous_action.py
        cfg->total_steps = 1000000;
        cfg->num_envs = 1;
        cfg->num_steps = 2048;
        cfg->lr = 3e-4f;
        cfg->num_minibatches = 32;
        cfg->update_epochs = 10;
        cfg->ent_coef = 0.0f;
        cfg->normalize_obs = 1;
        cfg->normalize_reward = 1;
        pc.log_std_init = 0.0f;
    }
    if (pcfg) *pcfg = pc;
}

int lc_ppo_cfg_for_env(lc_ppo_cfg *cfg, lc_policy_cfg *pcfg, const char *env_name,
                       lc_error *err) {
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 1;
    o.num_threads = 1;
    lc_env *e;
    int rc = lc_env_make(&e, env_name, &o, err);
    if (rc) return rc;
    const lc_env_spec *s = lc_env_get_spec(e);
    lc_ppo_cfg_for_spaces(cfg, pcfg, &s->obs_space, &s->act_space);
    lc_env_free(e);
    return LC_OK;
}

// ---------------------------------------------------------------- loss

double lc_ppo_loss(const float *logp, const float *entropy, const float *value,
                   const float *old_logp, const float *old_value, const float *adv,
                   const float *ret, int B, const lc_ppo_cfg *cfg, float *dlogp, float *dent,
                   float *dvalue, double parts[5]) {
    double pg = 0, vl = 0, ent = 0, kl = 0, cf = 0;
    double inv = 1.0 / B, c = cfg->clip_coef;
    for (int i = 0; i < B; i++) {
        double lr = (double)logp[i] - old_logp[i];
        double ratio = exp(lr);
        double a = adv[i];
        double p1 = -a * ratio;
        double rc = ratio < 1 - c ? 1 - c : ratio > 1 + c ? 1 + c : ratio;
        double p2 = -a * rc;
        double g; // d(max(p1, p2))/d(logp)
        if (p1 >= p2) {
            pg += p1;
            g = -a * ratio;
        } else {
            pg += p2;
            g = (ratio > 1 - c && ratio < 1 + c) ? -a * ratio : 0.0;
        }
        double v = value[i], R = ret[i], dv;
        if (cfg->clip_vloss) {
            double vu = (v - R) * (v - R);
            double d = v - old_value[i];
            double cv = cfg->vf_clip_coef > 0 ? cfg->vf_clip_coef : c;
            double dcl = d < -cv ? -cv : d > cv ? cv : d;
            double vc = old_value[i] + dcl;
            double vcl = (vc - R) * (vc - R);
            if (vu >= vcl) {
                vl += 0.5 * vu;
                dv = v - R;
            } else {
                vl += 0.5 * vcl;
                dv = (d > -c && d < c) ? vc - R : 0.0;
            }
        } else {
            vl += 0.5 * (v - R) * (v - R);
            dv = v - R;
        }
        ent += entropy[i];
        kl += (ratio - 1) - lr;
        cf += fabs(ratio - 1) > c;
        if (dlogp) dlogp[i] = (float)(g * inv);
        if (dvalue) dvalue[i] = (float)(cfg->vf_coef * dv * inv);
        if (dent) dent[i] = (float)(-cfg->ent_coef * inv);
    }
    pg *= inv, vl *= inv, ent *= inv;
    if (parts) {
        parts[0] = pg;
        parts[1] = vl;
        parts[2] = ent;
        parts[3] = kl * inv;
        parts[4] = cf * inv;
    }
    return pg - cfg->ent_coef * ent + cfg->vf_coef * vl;
}

// ---------------------------------------------------------------- update

typedef struct mb_bufs {
    void *obs, *act;
    uint8_t *starts;
    float *state0, *old_logp, *old_v, *adv, *ret, *logp, *ent, *v, *dlogp, *dent, *dv;
    float *backup; // params, m, v (3 n)
    int *perm;
} mb_bufs;

static void mb_free(mb_bufs *b) {
    free(b->obs);
    free(b->act);
    free(b->starts);
    free(b->state0);
    free(b->old_logp);
    free(b->old_v);
    free(b->adv);
    free(b->ret);
    free(b->logp);
    free(b->ent);
    free(b->v);
    free(b->dlogp);
    free(b->dent);
    free(b->dv);
    free(b->backup);
    free(b->perm);
}

static void shuffle(int *perm, int n, lc_rng *rng) {
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)lc_rng_below(rng, (uint32_t)(i + 1));
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static void backup_params(const lc_params *P, float *b) {
    memcpy(b, P->params, P->n * sizeof(float));
    memcpy(b + P->n, P->m, P->n * sizeof(float));
    memcpy(b + 2 * P->n, P->v, P->n * sizeof(float));
}

static void restore_params(lc_params *P, const float *b, int64_t step) {
    memcpy(P->params, b, P->n * sizeof(float));
    memcpy(P->m, b + P->n, P->n * sizeof(float));
    memcpy(P->v, b + 2 * P->n, P->n * sizeof(float));
    P->step = step;
}

int lc_ppo_update(lc_policy *p, lc_rollout *r, const lc_ppo_cfg *cfg, float lr, lc_rng *rng,
                  lc_ppo_stats *stats, lc_error *err) {
    int T = r->T, N = r->N, S = r->state_size, rc = LC_OK;
    if (cfg->num_minibatches < 1 || cfg->update_epochs < 1)
        return lc_fail(err, LC_ERR_ARG, "ppo: num_minibatches and update_epochs must be >= 1");
    if (lc_policy_obs_size(p) != r->obs_size || lc_policy_act_size(p) != r->act_size ||
        lc_policy_state_size(p) != S)
        return lc_fail(err, LC_ERR_SHAPE, "ppo: the rollout buffer does not match the policy");
    lc_rollout_gae(r, cfg->gamma, cfg->gae_lambda);
    lc_params *P = lc_policy_params(p);
    int recurrent = S > 0;
    size_t TN = (size_t)T * N;
    // Feed-forward: minibatches of M samples (T = 1, B = M). Recurrent: of C env
    // columns (T steps each, B = C), so sequences stay whole.
    int units = recurrent ? N : (int)TN;
    int per = units / cfg->num_minibatches;
    if (per < 1)
        return lc_fail(err, LC_ERR_ARG, "ppo: %d minibatches of %d %s", cfg->num_minibatches,
                       units, recurrent ? "env columns (recurrent policy)" : "samples");
    int mT = recurrent ? T : 1, mB = per;
    size_t M = (size_t)mT * mB;
    size_t orow = (size_t)r->obs_size * lc_dtype_size(r->obs_dtype), arow = (size_t)r->act_size * 4;
    mb_bufs b;
    memset(&b, 0, sizeof b);
    b.obs = malloc(M * orow);
    b.act = malloc(M * arow);
    b.starts = malloc(M);
    b.state0 = malloc(((size_t)mB * S + 1) * sizeof(float));
    float **fl[] = {&b.old_logp, &b.old_v, &b.adv, &b.ret, &b.logp, &b.ent, &b.v, &b.dlogp, &b.dent, &b.dv};
    int bad_alloc = !b.obs || !b.act || !b.starts || !b.state0;
    for (size_t k = 0; k < sizeof fl / sizeof fl[0]; k++) {
        *fl[k] = malloc(M * sizeof(float));
        bad_alloc |= !*fl[k];
    }
    b.backup = malloc(3 * P->n * sizeof(float));
    b.perm = malloc((size_t)units * sizeof(int));
    if (bad_alloc || !b.backup || !b.perm) {
        mb_free(&b);
        return lc_fail(err, LC_ERR_NOMEM, "ppo: out of memory for minibatches of %zu rows", M);
    }
    backup_params(P, b.backup);
    int64_t step_before = P->step;
    lc_adam opt = lc_adam_default(lr);
    opt.eps = cfg->adam_eps;
    double sum[5] = {0}, gn_sum = 0, okl_sum = 0;
    int nmb = 0, epochs = 0;
    for (int ep = 0; ep < cfg->update_epochs; ep++) {
        shuffle(b.perm, units, rng);
        memset(sum, 0, sizeof sum);
        gn_sum = okl_sum = 0;
        nmb = 0;
        double last_kl = 0;
        for (int mb = 0; mb < cfg->num_minibatches; mb++) {
            const int *idx = b.perm + (size_t)mb * per;
            // Gather: row (t, j) of the minibatch comes from (t, column idx[j]) when
            // recurrent, from flat sample idx[j] otherwise.
            for (int t = 0; t < mT; t++) {
                for (int j = 0; j < mB; j++) {
                    size_t src = recurrent ? (size_t)t * N + idx[j] : (size_t)idx[j];
                    size_t dst = (size_t)t * mB + j;
                    memcpy((char *)b.obs + dst * orow, (const char *)r->obs + src * orow, orow);
                    memcpy((char *)b.act + dst * arow, (const char *)r->actions + src * arow, arow);
                    b.starts[dst] = r->starts[src];
                    b.old_logp[dst] = r->logp[src];
                    b.old_v[dst] = r->values[src];
                    b.adv[dst] = r->advantages[src];
                    b.ret[dst] = r->returns[src];
                }
            }
            if (recurrent)
                for (int j = 0; j < mB; j++)
                    memcpy(b.state0 + (size_t)j * S, r->state0 + (size_t)idx[j] * S,
                           (size_t)S * sizeof(float));
            if (cfg->norm_adv && M > 1) {
                double mean = 0, var = 0;
                for (size_t i = 0; i < M; i++) mean += b.adv[i];
                mean /= (double)M;
                for (size_t i = 0; i < M; i++) var += (b.adv[i] - mean) * (b.adv[i] - mean);
                double sd = sqrt(var / (double)(M - 1)); // unbiased, as torch.std
                for (size_t i = 0; i < M; i++) b.adv[i] = (float)((b.adv[i] - mean) / (sd + 1e-8));
            }
            if ((rc = lc_policy_evaluate(p, b.obs, b.act, recurrent ? b.starts : NULL,
                                         recurrent ? b.state0 : NULL, mT, mB, b.logp, b.ent, b.v,
                                         err)))
                goto out;
            double parts[5];
            double loss = lc_ppo_loss(b.logp, b.ent, b.v, b.old_logp, b.old_v, b.adv, b.ret, (int)M,
                                      cfg, b.dlogp, b.dent, b.dv, parts);
            if (!isfinite(loss)) {
                rc = lc_fail(err, LC_ERR_NAN, "ppo: the loss became non-finite (%g)", loss);
                goto out;
            }
            double okl = 0;
            for (size_t i = 0; i < M; i++) okl += (double)b.old_logp[i] - b.logp[i];
            okl_sum += okl / (double)M;
            lc_params_zero_grad(P);
            lc_policy_backward(p, b.dlogp, b.dent, b.dv);
            float gn = cfg->max_grad_norm > 0 ? lc_clip_grad_norm(P->grads, P->n, cfg->max_grad_norm)
                                              : lc_grad_norm(P->grads, P->n);
            if (!isfinite(gn)) {
                rc = lc_fail(err, LC_ERR_NAN, "ppo: the gradient became non-finite");
                goto out;
            }
            lc_adam_step(P, &opt);
            for (int k = 0; k < 5; k++) sum[k] += parts[k];
            gn_sum += gn;
            last_kl = parts[3];
            nmb++;
        }
        epochs++;
        if (cfg->target_kl > 0 && last_kl > cfg->target_kl) break;
    }
    if (!lc_all_finite(P->params, P->n)) {
        rc = lc_fail(err, LC_ERR_NAN, "ppo: a parameter became non-finite");
        goto out;
    }
    if (stats) {
        double k = nmb ? 1.0 / nmb : 0.0;
        stats->policy_loss = sum[0] * k;
        stats->value_loss = sum[1] * k;
        stats->entropy = sum[2] * k;
        stats->approx_kl = sum[3] * k;
        stats->clip_frac = sum[4] * k;
        stats->old_approx_kl = okl_sum * k;
        stats->grad_norm = gn_sum * k;
        stats->lr = lr;
        stats->epochs = epochs;
        double mr = 0, vr = 0, md = 0, vd = 0;
        for (size_t i = 0; i < TN; i++) mr += r->returns[i], md += r->returns[i] - r->values[i];
        mr /= (double)TN, md /= (double)TN;
        for (size_t i = 0; i < TN; i++) {
            double d = r->returns[i] - r->values[i];
            vr += (r->returns[i] - mr) * (r->returns[i] - mr);
            vd += (d - md) * (d - md);
        }
        stats->explained_var = vr > 0 ? 1.0 - vd / vr : NAN;
    }
out:
    if (rc == LC_ERR_NAN) restore_params(P, b.backup, step_before);
    mb_free(&b);
    return rc;
}

// ---------------------------------------------------------------- trainer

struct lc_ppo {
    lc_ppo_cfg cfg;
    lc_policy_cfg pcfg;
    char env_name[256];
    lc_env_opts eopts;
    char eparams[256];
    char ckpt_path[1024];
    lc_env *env;
    lc_policy *pol;
    lc_rollout roll;
    lc_rng rng_act, rng_mb;
    int64_t global_step, iteration, num_iterations;
    double t0, wall0; // wall0: wall time of earlier sessions (resume)
    int64_t step0;
    int poisoned;
    lc_episode_stats eps;
};

static int64_t n_iterations(const lc_ppo_cfg *c) {
    int64_t per = (int64_t)c->num_envs * c->num_steps;
    return (c->total_steps + per - 1) / per;
}

static uint64_t boundary_seed(uint64_t seed, int64_t step) {
    uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (uint64_t)(step + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int check_cfg(const lc_ppo_cfg *c, lc_error *err) {
    return lc_settings_check(&PPO_SETTINGS, c, err);
}

// Resets the envs, the policy's recurrent states and the rollout's episode starts.
static int boundary_reset(lc_ppo *t, uint64_t seed, lc_error *err) {
    int rc = lc_env_reset(t->env, seed, err);
    if (rc) return rc;
    lc_policy_reset_state(t->pol);
    memset(t->roll.next_start, 1, (size_t)t->roll.N);
    return LC_OK;
}

// The settings the trainer owns (lc_ppo_cfg's rows) are not also taken from the env
// options: a value there that is neither the env default nor the trainer's own is a
// caller's mistake, refused rather than silently overwritten.
static int check_env_opts(const lc_env_opts *eo, const lc_ppo_cfg *c, lc_error *err) {
    const lc_env_opts d = lc_env_opts_default();
#define OWNED(f, fmt, cast)                                                                   \
    if (eo->f != d.f && eo->f != c->f)                                                        \
        return lc_fail(err, LC_ERR_ARG,                                                       \
                       "ppo: env option " #f " = " fmt " disagrees with the trainer's " #f      \
                       " = " fmt " (the trainer owns it: set it in lc_ppo_cfg)",              \
                       (cast)eo->f, (cast)c->f);
    OWNED(num_envs, "%d", int)
    OWNED(num_threads, "%d", int)
    OWNED(normalize_obs, "%d", int)
    OWNED(clip_obs, "%g", double)
    OWNED(normalize_reward, "%d", int)
    OWNED(gamma, "%g", double)
#undef OWNED
    if (eo->autoreset != d.autoreset && eo->autoreset != LC_AUTORESET_SAME_STEP)
        return lc_fail(err, LC_ERR_ARG, "ppo: the trainer needs same-step autoreset (env option "
                                        "autoreset = %d)", eo->autoreset);
    return LC_OK;
}

static int trainer_make(lc_ppo **out, const char *env_name, const lc_env_opts *env_opts,
                        const lc_ppo_cfg *cfg, const lc_policy_cfg *pcfg, int reset,
                        lc_error *err) {
    *out = NULL;
    int rc = check_cfg(cfg, err);
    if (rc) return rc;
    if (!env_name || strlen(env_name) >= 256)
        return lc_fail(err, LC_ERR_ARG, "ppo: missing or too long env name");
    lc_ppo *t = calloc(1, sizeof *t);
    if (!t) return lc_fail(err, LC_ERR_NOMEM, "ppo: out of memory");
    t->cfg = *cfg;
    t->pcfg = *pcfg;
    snprintf(t->env_name, sizeof t->env_name, "%s", env_name);
    if (cfg->checkpoint_path) {
        if (strlen(cfg->checkpoint_path) >= sizeof t->ckpt_path) {
            free(t);
            return lc_fail(err, LC_ERR_ARG, "ppo: checkpoint path too long");
        }
        snprintf(t->ckpt_path, sizeof t->ckpt_path, "%s", cfg->checkpoint_path);
        t->cfg.checkpoint_path = t->ckpt_path;
    }
    t->eopts = env_opts ? *env_opts : lc_env_opts_default();
    if (t->eopts.params) {
        if (strlen(t->eopts.params) >= sizeof t->eparams) {
            free(t);
            return lc_fail(err, LC_ERR_ARG, "ppo: env params too long");
        }
        snprintf(t->eparams, sizeof t->eparams, "%s", t->eopts.params);
        t->eopts.params = t->eparams;
    }
    if ((rc = check_env_opts(&t->eopts, cfg, err))) {
        free(t);
        return rc;
    }
    t->eopts.num_envs = cfg->num_envs;
    t->eopts.num_threads = cfg->num_threads;
    t->eopts.normalize_obs = cfg->normalize_obs;
    t->eopts.clip_obs = cfg->clip_obs;
    t->eopts.normalize_reward = cfg->normalize_reward;
    t->eopts.gamma = cfg->gamma;
    t->eopts.clip_reward = cfg->clip_reward > 0 ? cfg->clip_reward : 1e9f; // 0: no clip
    t->eopts.autoreset = LC_AUTORESET_SAME_STEP;
    t->num_iterations = n_iterations(cfg);
    lc_rng_seed(&t->rng_act, cfg->seed, 1);
    lc_rng_seed(&t->rng_mb, cfg->seed, 2);
    lc_episode_stats_clear(&t->eps);
    if ((rc = lc_env_make(&t->env, env_name, &t->eopts, err))) goto fail;
    const lc_env_spec *spec = lc_env_get_spec(t->env);
    if ((rc = lc_policy_new(&t->pol, &spec->obs_space, &spec->act_space, pcfg, cfg->seed, err)))
        goto fail;
    lc_policy_set_env_name(t->pol, env_name);
    if ((rc = lc_rollout_init(&t->roll, cfg->num_steps, cfg->num_envs, &spec->obs_space,
                              &spec->act_space, lc_policy_state_size(t->pol), err)))
        goto fail;
    if (reset && (rc = boundary_reset(t, cfg->seed, err))) goto fail;
    t->t0 = lc_now();
    *out = t;
    return LC_OK;
fail:
    lc_ppo_free(t);
    return rc;
}

int lc_ppo_new(lc_ppo **out, const char *env_name, const lc_env_opts *env_opts,
               const lc_ppo_cfg *cfg, const lc_policy_cfg *pcfg, lc_error *err) {
    return trainer_make(out, env_name, env_opts, cfg, pcfg, 1, err);
}

void lc_ppo_free(lc_ppo *t) {
    if (!t) return;
    lc_env_free(t->env);
    lc_policy_free(t->pol);
    lc_rollout_free(&t->roll);
    free(t);
}

int lc_ppo_done(const lc_ppo *t) { return t->iteration >= t->num_iterations; }
int64_t lc_ppo_global_step(const lc_ppo *t) { return t->global_step; }
int64_t lc_ppo_iteration(const lc_ppo *t) { return t->iteration; }
int64_t lc_ppo_num_iterations(const lc_ppo *t) { return t->num_iterations; }
lc_policy *lc_ppo_policy(lc_ppo *t) { return t->pol; }
lc_env *lc_ppo_env(lc_ppo *t) { return t->env; }
const lc_ppo_cfg *lc_ppo_get_cfg(const lc_ppo *t) { return &t->cfg; }

// The policy carries the env's live obs statistics (frame stacks repeat them).
static int capture_norm(lc_ppo *t, lc_error *err) {
    double *count, *mean, *var;
    if (lc_env_obs_stats(t->env, &count, &mean, &var) != LC_OK || !mean) return LC_OK;
    int k = t->eopts.frame_stack > 1 ? t->eopts.frame_stack : 1;
    int n = lc_policy_obs_size(t->pol) / k;
    return lc_policy_set_obs_norm(t->pol, *count, mean, var, n, t->cfg.clip_obs, err);
}

int lc_ppo_iterate(lc_ppo *t, lc_ppo_stats *stats, lc_error *err) {
    if (t->poisoned)
        return lc_fail(err, LC_ERR_NAN, "ppo: training stopped on a non-finite value earlier");
    float lr = lc_lr_at(t->cfg.anneal_lr ? LC_SCHED_LINEAR : LC_SCHED_CONST, t->cfg.lr,
                        t->iteration, t->num_iterations, 0);
    lc_episode_stats_clear(&t->eps);
    int rc = lc_rollout_collect(&t->roll, t->pol, t->env, &t->rng_act, &t->eps, err);
    if (rc) {
        if (rc == LC_ERR_NAN) t->poisoned = 1;
        return rc;
    }
    t->global_step += (int64_t)t->cfg.num_envs * t->cfg.num_steps;
    lc_ppo_stats st;
    memset(&st, 0, sizeof st);
    rc = lc_ppo_update(t->pol, &t->roll, &t->cfg, lr, &t->rng_mb, &st, err);
    if (rc) {
        if (rc == LC_ERR_NAN) t->poisoned = 1;
        return rc;
    }
    t->iteration++;
    if ((rc = capture_norm(t, err))) return rc;
    if (stats) {
        double now = lc_now();
        st.global_step = t->global_step;
        st.iteration = t->iteration;
        st.wall_s = now - t->t0;
        st.sps = st.wall_s > 0 ? (double)(t->global_step - t->step0) / st.wall_s : 0.0;
        st.episodes = t->eps.episodes;
        st.episode_return = t->eps.episodes ? t->eps.return_sum / (double)t->eps.episodes : NAN;
        st.episode_length = t->eps.episodes ? t->eps.length_sum / (double)t->eps.episodes : NAN;
        *stats = st;
    }
    return LC_OK;
}

// ---------------------------------------------------------------- checkpoints

#define SET_I(k, v) rc |= lc_file_set_int(f, k, (int64_t)(v))
#define SET_F(k, v) rc |= lc_file_set_float(f, k, (double)(v))

int lc_ppo_checkpoint(lc_ppo *t, const char *path, lc_error *err) {
    if (t->poisoned || !lc_all_finite(lc_policy_params(t->pol)->params, lc_policy_nparams(t->pol)))
        return lc_fail(err, LC_ERR_NAN, "ppo: refusing to checkpoint non-finite parameters to %s",
                       path);
    int rc = capture_norm(t, err);
    if (rc) return rc;
    lc_file *f = lc_file_new("policy");
    if (!f) return lc_fail(err, LC_ERR_NOMEM, "ppo: out of memory");
    if ((rc = lc_policy_to_file(t->pol, f, 1, err))) goto out;
    const lc_ppo_cfg *c = &t->cfg;
    if ((rc = lc_settings_to_file(&PPO_SETTINGS, c, f, err))) goto out;
    SET_I("ppo.global_step", t->global_step);
    SET_I("ppo.iteration", t->iteration);
    SET_F("ppo.wall_s", t->wall0 + (lc_now() - t->t0));
    rc |= lc_file_set_str(f, "env.name", t->env_name);
    rc |= lc_file_set_str(f, "env.params", t->eparams);
    if ((rc = lc_settings_to_file(lc_env_opts_settings(), &t->eopts, f, err))) goto out;
    double *rnc, *rnm, *rnv;
    if (c->normalize_reward && lc_env_reward_stats(t->env, &rnc, &rnm, &rnv) == LC_OK) {
        SET_F("ppo.rn.count", *rnc);
        SET_F("ppo.rn.mean", *rnm);
        SET_F("ppo.rn.var", *rnv);
    }
    if (rc) {
        rc = lc_fail(err, LC_ERR_NOMEM, "ppo: cannot store checkpoint metadata");
        goto out;
    }
    int64_t rs[2] = {2, 4};
    int64_t rngs[8];
    for (int i = 0; i < 4; i++) {
        rngs[i] = (int64_t)t->rng_act.s[i];
        rngs[4 + i] = (int64_t)t->rng_mb.s[i];
    }
    if ((rc = lc_file_add(f, "ppo.rng", LC_I64, 2, rs, rngs, err))) goto out;
    if ((rc = lc_file_write(f, path, err))) goto out;
    // A segment boundary: continue from a state a resumed run can rebuild exactly.
    rc = boundary_reset(t, boundary_seed(c->seed, t->global_step), err);
out:
    lc_file_free(f);
    return rc;
}

static int ck_flt(const lc_file *f, const char *k, double *v, lc_error *err) {
    return lc_file_get_float_in(f, k, -HUGE_VAL, HUGE_VAL, v, err);
}

int lc_ppo_init_from(lc_ppo *t, const lc_policy *src, int with_optimizer, lc_error *err) {
    const lc_params *Q = lc_policy_params((lc_policy *)src);
    for (size_t i = 0; i < Q->n; i++)
        if (!isfinite(Q->params[i]))
            return lc_fail(err, LC_ERR_NAN, "ppo: the policy has a non-finite parameter");
    int rc = lc_policy_copy_params(t->pol, src, err); // same arch, spaces and layers
    if (rc) return rc;
    lc_params *P = lc_policy_params(t->pol);
    if (with_optimizer && Q->m && Q->v) {
        memcpy(P->m, Q->m, P->n * sizeof(float));
        memcpy(P->v, Q->v, P->n * sizeof(float));
        P->step = Q->step;
    }
    if (!lc_policy_has_obs_norm(src)) return LC_OK;
    double count;
    const double *mean, *var;
    float clip;
    lc_policy_obs_norm(src, &count, &mean, &var, &clip);
    double *ec;
    if (lc_env_obs_stats(t->env, &ec, NULL, NULL) != LC_OK)
        return lc_fail(err, LC_ERR_STATE,
                       "ppo: the policy carries obs statistics but the trainer does not normalise "
                       "observations (set normalize_obs)");
    int k = t->eopts.frame_stack > 1 ? t->eopts.frame_stack : 1;
    int n = lc_policy_obs_size(t->pol) / k;
    rc = lc_policy_set_obs_norm(t->pol, count, mean, var, n, clip, err);
    if (!rc) rc = lc_policy_sync_env(t->pol, t->env, err); // into the env's live statistics
    lc_env_obs_freeze(t->env, 0);                          // which keep learning
    return rc;
}

int lc_ppo_resume(lc_ppo **out, const char *path, int64_t total_steps, lc_error *err) {
    *out = NULL;
    lc_file *f = NULL;
    lc_policy *tmp = NULL;
    lc_ppo *t = NULL;
    int rc = lc_file_read(path, &f, err);
    if (rc) return rc;
    lc_ppo_cfg c = lc_ppo_cfg_default();
    lc_env_opts eo = lc_env_opts_default();
    int64_t gs, it;
    double d;
    const char *name, *params;
    const int64_t BIG = (int64_t)1 << 40;
    if ((rc = lc_settings_from_file(&PPO_SETTINGS, &c, f, err)) ||
        (rc = lc_file_get_int_in(f, "ppo.global_step", 0, BIG, &gs, err)) ||
        (rc = lc_file_get_int_in(f, "ppo.iteration", 0, BIG, &it, err)))
        goto fail;
    if ((rc = lc_settings_from_file(lc_env_opts_settings(), &eo, f, err))) goto fail;
    if ((rc = lc_file_get_str(f, "env.name", &name, err)) ||
        (rc = lc_file_get_str(f, "env.params", &params, err)))
        goto fail;
    eo.params = params[0] ? params : NULL;
    if (total_steps > 0) c.total_steps = total_steps;
    // The policy config as saved (lc_policy_from_file parses and checks it).
    if ((rc = lc_policy_from_file(&tmp, f, 1, err))) goto fail;
    if ((rc = trainer_make(&t, name, &eo, &c, lc_policy_get_cfg(tmp), 0, err))) goto fail;
    if ((rc = lc_ppo_init_from(t, tmp, 1, err))) {
        if (rc == LC_ERR_STATE) rc = LC_ERR_FORMAT; // statistics without normalisation
        if (err) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            lc_fail(err, rc, "%s: %s", path, why);
        }
        goto fail;
    }
    double *rnc, *rnm, *rnv;
    if (c.normalize_reward && lc_env_reward_stats(t->env, &rnc, &rnm, &rnv) == LC_OK) {
        if ((rc = ck_flt(f, "ppo.rn.count", rnc, err)) ||
            (rc = ck_flt(f, "ppo.rn.mean", rnm, err)) || (rc = ck_flt(f, "ppo.rn.var", rnv, err)))
            goto fail;
    }
    int64_t rs[2] = {2, 4};
    const lc_tensor *rt = lc_file_expect(f, "ppo.rng", LC_I64, 2, rs, err);
    if (!rt) {
        rc = err ? err->code : LC_ERR_NOTFOUND;
        goto fail;
    }
    const int64_t *rv = rt->data;
    for (int i = 0; i < 4; i++) {
        t->rng_act.s[i] = (uint64_t)rv[i];
        t->rng_mb.s[i] = (uint64_t)rv[4 + i];
    }
    if (lc_file_get_float(f, "ppo.wall_s", &d, NULL) == LC_OK && isfinite(d) && d >= 0) t->wall0 = d;
    // Refuse what the trainer does not use (lc_policy_from_file checked its own part).
    if ((rc = lc_file_opt_float(f, "ppo.wall_s", 0, HUGE_VAL, &d, err)) ||
        (rc = lc_file_check_claimed(f, "PPO trainer", NULL, err)))
        goto fail;
    t->global_step = t->step0 = gs;
    t->iteration = it;
    lc_policy_set_env_name(t->pol, name);
    if ((rc = boundary_reset(t, boundary_seed(c.seed, gs), err))) goto fail;
    t->t0 = lc_now();
    lc_policy_free(tmp);
    lc_file_free(f);
    *out = t;
    return LC_OK;
fail:
    lc_error_prefix(err, "%s: ", path);
    lc_policy_free(tmp);
    lc_ppo_free(t);
    lc_file_free(f);
    return rc;
}

int lc_ppo_set_checkpoint(lc_ppo *t, const char *path, int64_t every, lc_error *err) {
    if (every < 0) return lc_fail(err, LC_ERR_ARG, "ppo: checkpoint interval %lld < 0", (long long)every);
    if (path && strlen(path) >= sizeof t->ckpt_path)
        return lc_fail(err, LC_ERR_ARG, "ppo: checkpoint path too long");
    if (path) snprintf(t->ckpt_path, sizeof t->ckpt_path, "%s", path);
    t->cfg.checkpoint_path = path ? t->ckpt_path : NULL;
    t->cfg.checkpoint_every = every;
    return LC_OK;
}

int lc_ppo_train(lc_ppo *t, lc_ppo_callback cb, void *ctx, lc_error *err) {
    int rc;
    while (!lc_ppo_done(t)) {
        lc_ppo_stats st;
        if ((rc = lc_ppo_iterate(t, &st, err))) return rc;
        int stop = cb ? cb(ctx, &st) : 0;
        if (t->cfg.checkpoint_path && t->cfg.checkpoint_every > 0 &&
            t->iteration % t->cfg.checkpoint_every == 0 && !lc_ppo_done(t) &&
            (rc = lc_ppo_checkpoint(t, t->cfg.checkpoint_path, err)))
            return rc;
        if (stop) break;
    }
    if (t->cfg.checkpoint_path) return lc_ppo_checkpoint(t, t->cfg.checkpoint_path, err);
    return LC_OK;
}
