// env/mountaincar.c: MountainCar-v0 (Discrete(3), -1 per step, goal at 0.5) and
// MountainCarContinuous-v0 (Box(-1, 1, (1,)), +100 at the goal 0.45 - 0.1 a^2), exactly
// as Gymnasium 1.x with NumPy 2. Leaves out: reset bounds options.
//
// Letters: N = num_envs.
// MountainCar-v0 computes in float64 throughout. MountainCarContinuous-v0 keeps its
// state as a float32 array after every step, and under NumPy 2's promotion (NEP 50) its
// arithmetic on float32 scalars with Python floats stays float32; a value clamped to a
// Python float (0.07, 0.6, -1.2) is a float64 again until it is stored. The first step
// after a reset runs on the float64 state that reset drew. Each value below carries
// that type (num.f32) so every operation and comparison is done in the type Python uses.
// (Under NumPy 1.x those scalar operations were float64.)
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "env/classic.h"

#define MIN_POSITION -1.2
#define MAX_POSITION 0.6
#define MAX_SPEED 0.07
#define GOAL_POSITION 0.5      // MountainCar-v0
#define GOAL_POSITION_CONT 0.45 // MountainCarContinuous-v0
#define FORCE 0.001
#define GRAVITY 0.0025
#define POWER 0.0015
#define MIN_ACTION -1.0
#define MAX_ACTION 1.0
#define MAX_STEPS 200
#define MAX_STEPS_CONT 999
#define RENDER_W 600
#define RENDER_H 400

typedef struct mountaincar {
    lc_classic_head head;
    int continuous;
    double goal_velocity;
    double *position, *velocity; // (N) each
    uint8_t *f32;                // (N) 1: the state is a float32 array (after a step)
} mountaincar;

static void mc_observe(const void *data, int i, float *o) {
    const mountaincar *d = data;
    o[0] = (float)d->position[i];
    o[1] = (float)d->velocity[i];
}

// MountainCar-v0: float64.
static void mc_step_discrete(mountaincar *d, int i, int action, float *o, float *reward, uint8_t *term) {
    double position = d->position[i], velocity = d->velocity[i];
    velocity += (action - 1) * FORCE + cos(3 * position) * (-GRAVITY);
    velocity = velocity < -MAX_SPEED ? -MAX_SPEED : velocity > MAX_SPEED ? MAX_SPEED : velocity; // np.clip
    position += velocity;
    position = position < MIN_POSITION ? MIN_POSITION : position > MAX_POSITION ? MAX_POSITION : position;
    if (position == MIN_POSITION && velocity < 0) velocity = 0;
    *term = position >= GOAL_POSITION && velocity >= d->goal_velocity;
    *reward = -1.0f;
    d->position[i] = position;
    d->velocity[i] = velocity;
    mc_observe(d, i, o);
}

// A Python scalar as MountainCarContinuous sees it: a float32 (f32) or a float64.
typedef struct num {
    double v;
    int f32;
} num;

// Comparisons with a Python float: in float32 for a float32 scalar (NEP 50), else in float64.
static int num_gt(num a, double c) { return a.f32 ? (float)a.v > (float)c : a.v > c; }
static int num_lt(num a, double c) { return a.f32 ? (float)a.v < (float)c : a.v < c; }
static int num_ge(num a, double c) { return a.f32 ? (float)a.v >= (float)c : a.v >= c; }
static int num_eq(num a, double c) { return a.f32 ? (float)a.v == (float)c : a.v == c; }

// MountainCarContinuous-v0: action is float32 and already within [-1, 1].
static void mc_step_continuous(mountaincar *d, int i, float action, float *o, float *reward, uint8_t *term) {
    int f32 = d->f32[i];
    num position = {d->position[i], f32}, velocity = {d->velocity[i], f32};
    float force = action; // min(max(action[0], min_action), max_action): the float32 itself
    // velocity += force * self.power - 0.0025 * math.cos(3 * position)
    float fp = force * (float)POWER;
    double c = 0.0025 * cos(position.f32 ? (double)(3.0f * (float)position.v) : 3 * position.v);
    float dv = fp - (float)c;
    velocity.v = velocity.f32 ? (double)((float)velocity.v + dv) : velocity.v + (double)dv;
    if (num_gt(velocity, MAX_SPEED)) velocity = (num){MAX_SPEED, 0};
    if (num_lt(velocity, -MAX_SPEED)) velocity = (num){-MAX_SPEED, 0};
    // position += velocity (a float32 position absorbs a Python float as float32)
    position.v = position.f32 ? (double)((float)position.v + (float)velocity.v) : position.v + velocity.v;
    if (num_gt(position, MAX_POSITION)) position = (num){MAX_POSITION, 0};
    if (num_lt(position, MIN_POSITION)) position = (num){MIN_POSITION, 0};
    if (num_eq(position, MIN_POSITION) && num_lt(velocity, 0)) velocity = (num){0, 0};

    *term = num_ge(position, GOAL_POSITION_CONT) && num_ge(velocity, d->goal_velocity);
    double r = *term ? 100.0 : 0.0;
    r -= lc_classic_pow((double)action, 2) * 0.1;
    *reward = (float)r;
    d->position[i] = (float)position.v; // self.state = np.array([position, velocity], dtype=np.float32)
    d->velocity[i] = (float)velocity.v;
    d->f32[i] = 1;
    mc_observe(d, i, o);
}

static void mc_step(void *data, int i0, int i1, const void *actions, void *obs, float *rewards, uint8_t *terminated,
                    float *info, lc_rng *rngs) {
    (void)info;
    (void)rngs;
    mountaincar *d = data;
    float *o = obs;
    for (int i = i0; i < i1; i++) {
        if (d->continuous)
            mc_step_continuous(d, i, ((const float *)actions)[i], o + (size_t)2 * i, rewards + i, terminated + i);
        else
            mc_step_discrete(d, i, ((const int32_t *)actions)[i], o + (size_t)2 * i, rewards + i, terminated + i);
    }
}

static void mc_reset(void *data, int i, lc_rng *rng, void *obs_row) {
    (void)rng;
    mountaincar *d = data;
    d->position[i] = lc_pcg64_uniform(&d->head.np_random[i], -0.6, -0.4); // np.array([np_random.uniform(-.6, -.4), 0])
    d->velocity[i] = 0.0;
    d->f32[i] = 0;
    mc_observe(d, i, obs_row);
}

static void mc_get_state(const void *data, int i, double *s) {
    const mountaincar *d = data;
    s[0] = d->position[i];
    s[1] = d->velocity[i];
}

static void mc_set_state(void *data, int i, const double *s) {
    mountaincar *d = data;
    d->position[i] = s[0];
    d->velocity[i] = s[1];
    d->f32[i] = 0;
}

static void mc_destroy(void *data) {
    mountaincar *d = data;
    if (!d) return;
    free(d->position);
    free(d->f32);
    lc_classic_head_free(&d->head);
    free(d);
}

int lc_mountaincar_make(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts,
                        lc_error *err) {
    assert(num_envs >= 1);
    int continuous = strcmp(name, "MountainCarContinuous-v0") == 0;
    static const char *const keys[] = {"goal_velocity"};
    double vals[1] = {0.0};
    int rc = lc_classic_params(name, opts ? opts->params : NULL, keys, vals, 1, err);
    if (rc) return rc;
    mountaincar *d = calloc(1, sizeof *d);
    if (!d) return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for %d envs", name, num_envs);
    if ((rc = lc_classic_head_init(&d->head, continuous ? LC_CLASSIC_MOUNTAINCAR_CONTINUOUS : LC_CLASSIC_MOUNTAINCAR,
                                   num_envs, 2, mc_get_state, mc_set_state, mc_observe, name, err))) {
        free(d);
        return rc;
    }
    double *state = calloc((size_t)2 * num_envs, sizeof(double));
    uint8_t *f32 = state ? calloc((size_t)num_envs, 1) : NULL;
    if (!f32) {
        free(state);
        mc_destroy(d);
        return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for %d envs", name, num_envs);
    }
    d->continuous = continuous;
    d->goal_velocity = vals[0];
    d->position = state;
    d->velocity = state + num_envs;
    d->f32 = f32;

    memset(impl, 0, sizeof *impl);
    float low[2] = {(float)MIN_POSITION, (float)-MAX_SPEED}, high[2] = {(float)MAX_POSITION, (float)MAX_SPEED};
    impl->obs_space = lc_space_box(LC_F32, 1, (int[]){2}, low, high);
    impl->act_space = continuous ? lc_space_box_scalar(LC_F32, 1, (int[]){1}, (float)MIN_ACTION, (float)MAX_ACTION)
                                 : lc_space_discrete(3);
    impl->max_episode_steps = continuous ? MAX_STEPS_CONT : MAX_STEPS;
    impl->can_split = 1;
    impl->render_w = RENDER_W;
    impl->render_h = RENDER_H;
    impl->data = d;
    impl->reset = mc_reset;
    impl->seed = lc_classic_seed;
    impl->step = mc_step;
    impl->render = lc_mountaincar_render;
    impl->destroy = mc_destroy;
    return LC_OK;
}
