/* python/lucid/_cdef.h: the C API the Python package calls, as cffi's cdef reads it
 * (API mode: "..." lets the compiler fill in sizes, enum values and further fields).
 * Everything here is declared by the public umbrella header lucid.h, which the extension
 * compiles against (python/lucid_build.py); this file is the one place to adapt. */

#define LC_OK ...
#define LC_ERR_ARG ...
#define LC_ERR_NOMEM ...
#define LC_ERR_NOTFOUND ...
#define LC_ERR_ACTION ...
#define LC_ERR_STATE ...
#define LC_ERR_UNSUPPORTED ...

typedef struct lc_error { int code; char msg[...]; ...; } lc_error;
const char *lc_status_str(int code);

#define LC_F32 ...
#define LC_U8 ...
#define LC_I32 ...
#define LC_SPACE_DISCRETE ...
#define LC_SPACE_BOX ...
#define LC_SPACE_MULTI_DISCRETE ...
#define LC_AUTORESET_SAME_STEP ...
#define LC_AUTORESET_DISABLED ...
#define LC_AUTORESET_NEXT_STEP ...

typedef int... lc_dtype;
typedef int... lc_space_kind;

typedef struct lc_space {
    lc_space_kind kind;
    lc_dtype dtype;
    int ndim;
    int shape[3];
    int n;
    int nvec[...];
    int per_dim;
    float low[...], high[...];
    ...;
} lc_space;
int lc_space_size(const lc_space *s);
float lc_space_low(const lc_space *s, int i);
float lc_space_high(const lc_space *s, int i);

typedef struct lc_env_opts {
    int num_envs;
    int num_threads;
    int max_episode_steps;
    int autoreset;
    int render_w, render_h;
    int action_repeat;
    int frame_stack;
    int normalize_obs;
    float clip_obs;
    int normalize_reward;
    float gamma;
    float clip_reward;
    int resize_h, resize_w;
    const char *params;
    ...;
} lc_env_opts;
lc_env_opts lc_env_opts_default(void);

typedef struct lc_env_spec {
    char name[...];
    int num_envs;
    lc_space obs_space, act_space;
    int obs_size, act_size;
    int max_episode_steps;
    int n_info;
    const char *info_names[...];
    int render_w, render_h;
    ...;
} lc_env_spec;

typedef struct lc_env_buf {
    void *obs;
    float *rewards;
    uint8_t *terminated;
    uint8_t *truncated;
    uint8_t *done;
    void *final_obs;
    float *ep_return;
    int32_t *ep_length;
    float *info;
    ...;
} lc_env_buf;

typedef struct lc_env lc_env;
void lc_env_register_builtin(void);
void lc_worldmodel_register(void);
int lc_remote_register(void);
void lc_policy_register_envs(void);
int lc_env_registry_count(void);
const char *lc_env_registry_name(int i);
const char *lc_env_registry_summary(int i);
int lc_env_make(lc_env **out, const char *name, const lc_env_opts *opts, lc_error *err);
void lc_env_free(lc_env *e);
const lc_env_spec *lc_env_get_spec(const lc_env *e);
const lc_env_buf *lc_env_get_buf(const lc_env *e);
int lc_env_reset(lc_env *e, uint64_t seed, lc_error *err);
int lc_env_reset_mask(lc_env *e, const uint8_t *mask, lc_error *err);
int lc_env_step(lc_env *e, const void *actions, lc_error *err);
int lc_env_render(lc_env *e, int i, uint8_t *rgb, lc_error *err);

typedef struct lc_rng { uint64_t s[4]; } lc_rng;
void lc_rng_seed(lc_rng *r, uint64_t seed, uint64_t stream);

typedef struct lc_policy lc_policy;
int lc_policy_load(lc_policy **out, const char *path, lc_error *err);
int lc_policy_save(const lc_policy *p, const char *path, lc_error *err);
void lc_policy_free(lc_policy *p);
const lc_space *lc_policy_obs_space(const lc_policy *p);
const lc_space *lc_policy_act_space(const lc_policy *p);
int lc_policy_obs_size(const lc_policy *p);
int lc_policy_act_size(const lc_policy *p);
int lc_policy_state_size(const lc_policy *p);
const char *lc_policy_env_name(const lc_policy *p);
void lc_policy_reset_state(lc_policy *p);
int lc_policy_act(lc_policy *p, const void *obs, int N, const uint8_t *episode_start,
                  int deterministic, lc_rng *rng, void *actions, float *logp, float *value,
                  lc_error *err);

typedef struct lc_dataset {
    char env_name[...];
    lc_space obs_space, act_space;
    int obs_size, act_size;
    int max_episode_steps;
    size_t n, cap;
    float *obs;
    void *actions;
    float *rewards;
    uint8_t *terminated;
    uint8_t *truncated;
    float *next_obs;
    uint8_t *starts;
    ...;
} lc_dataset;
int lc_dataset_init(lc_dataset *ds, const char *env_name, const lc_space *obs_space,
                    const lc_space *act_space, int max_episode_steps, lc_error *err);
void lc_dataset_free(lc_dataset *ds);
int lc_dataset_add_run(lc_dataset *ds, int T, int K, const float *obs, const void *actions,
                       const float *rewards, const uint8_t *terminated, const uint8_t *truncated,
                       const float *next_obs, const uint8_t *starts, lc_error *err);
int lc_dataset_validate(const lc_dataset *ds, lc_error *err);
size_t lc_dataset_episodes(const lc_dataset *ds);
int lc_dataset_save(const lc_dataset *ds, const char *path, lc_error *err);
int lc_dataset_load(lc_dataset *ds, const char *path, lc_error *err);
typedef int (*lc_act_fn)(void *ctx, const float *obs, const uint8_t *starts, int N,
                         void *actions, lc_error *err);
int lc_dataset_collect(lc_dataset *ds, lc_env *env, int64_t steps, lc_act_fn fn, void *ctx,
                       uint64_t seed, double *ep_return_sum, int64_t *ep_count, lc_error *err);
int lc_dataset_init_for_env(lc_dataset *ds, const lc_env *env, lc_error *err);
