// env/pomdp.c: partially observed variants of registered envs (for recurrent
// policies): "CartPoleNoVel-v1" is CartPole-v1 (made through the registry) with the
// velocities removed, obs (x, theta). Leaves out: noise or flicker variants.
//
// N = env copies; the inner env's obs rows have 4 elements, ours 2.
#include <stdlib.h>
#include <string.h>

#include "env/pomdp.h"
#include "env/builtin.h"

typedef struct novel {
    lc_env_impl inner;
    float *obs4; // (N, 4) the inner CartPole's observations
} novel;

static void keep(float *out, const float *in) {
    out[0] = in[0]; // cart position
    out[1] = in[2]; // pole angle
}

static void novel_reset(void *data, int i, lc_rng *rng, void *obs_row) {
    novel *d = data;
    float *row = d->obs4 + (size_t)i * 4;
    d->inner.reset(d->inner.data, i, rng, row);
    keep(obs_row, row);
}

static void novel_seed(void *data, int i, uint64_t seed) {
    novel *d = data;
    d->inner.seed(d->inner.data, i, seed); // CartPole's Gymnasium seeding
}

static void novel_step(void *data, int i0, int i1, const void *actions, void *obs, float *rewards,
                       uint8_t *terminated, float *info, lc_rng *rngs) {
    novel *d = data;
    d->inner.step(d->inner.data, i0, i1, actions, d->obs4, rewards, terminated, info, rngs);
    for (int i = i0; i < i1; i++) keep((float *)obs + (size_t)i * 2, d->obs4 + (size_t)i * 4);
}

static int novel_render(void *data, int i, uint8_t *rgb, int w, int h) {
    novel *d = data;
    return d->inner.render ? d->inner.render(d->inner.data, i, rgb, w, h) : -1;
}

static void novel_destroy(void *data) {
    novel *d = data;
    if (d->inner.destroy) d->inner.destroy(d->inner.data);
    free(d->obs4);
    free(d);
}

static int novel_ctor(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts,
                      lc_error *err) {
    (void)name;
    lc_env_ctor ctor;
    int rc = lc_env_lookup("CartPole-v1", &ctor, err);
    if (rc) return rc;
    novel *d = calloc(1, sizeof *d);
    if (!d) return lc_fail(err, LC_ERR_NOMEM, "CartPoleNoVel-v1: out of memory");
    if ((rc = ctor(&d->inner, "CartPole-v1", num_envs, opts, err))) {
        free(d);
        return rc;
    }
    const lc_space *os = &d->inner.obs_space;
    if (os->kind != LC_SPACE_BOX || os->dtype != LC_F32 || lc_space_size(os) != 4) {
        novel_destroy(d);
        return lc_fail(err, LC_ERR_UNSUPPORTED, "CartPoleNoVel-v1: CartPole-v1 obs is not Box(4,)");
    }
    d->obs4 = malloc((size_t)num_envs * 4 * sizeof(float));
    if (!d->obs4) {
        novel_destroy(d);
        return lc_fail(err, LC_ERR_NOMEM, "CartPoleNoVel-v1: out of memory");
    }
    *impl = d->inner;
    int shape[1] = {2};
    float low[2] = {lc_space_low(os, 0), lc_space_low(os, 2)};
    float high[2] = {lc_space_high(os, 0), lc_space_high(os, 2)};
    impl->obs_space = lc_space_box(LC_F32, 1, shape, low, high);
    impl->data = d;
    impl->reset = novel_reset;
    impl->seed = d->inner.seed ? novel_seed : NULL;
    impl->step = novel_step;
    impl->render = d->inner.render ? novel_render : NULL;
    impl->destroy = novel_destroy;
    return LC_OK;
}

// Called once by the registry's built-in registration (env/registry.c).
void lc_pomdp_register(void) {
    lc_env_register("CartPoleNoVel-v1", novel_ctor,
                    "CartPole-v1 without velocities: obs (x, theta), partially observed");
}

// Kept for callers: CartPoleNoVel-v1 is a built-in now.
void lc_env_register_pomdp(void) { lc_env_register_builtin(); }
