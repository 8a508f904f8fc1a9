// cli/eval_genie.h: what the files of `lucid eval-genie` share: the measures on held-out
// frames common to both designs (latent-action consistency, PSNR, frames/s) and the
// controller evaluation (cli/eval_genie_ctl.c). Internal to cli/. Leaves out: the verb's
// options (cli/eval_genie.c), each design's held-out metrics (eval_genie_{pixels,tokens}.c).
//
// Letters: K = latent actions, A = true actions.
#ifndef LC_CLI_EVAL_GENIE_H
#define LC_CLI_EVAL_GENIE_H

#include <stddef.h>
#include <stdint.h>

#include "cli/eval_effects.h"
#include "worldmodel/frames.h"
#include "worldmodel/genie.h"

#define EG_ROLL_T 16  // rollout and lockstep window steps
#define EG_MAX_SEQ 256 // held-out rollout sequences at most

// What the verb was asked (one struct for every job).
typedef struct eg_args {
    const char *model, *data, *actions, *policy;
    const char *effects; // FRAMES.effects.lucid (NULL: no consistency by effect)
    int labels, episodes, json, maskgit;
    uint64_t seed;
    float temp; // < 0: the model's
} eg_args;

// A JSON number into buf (32 bytes), or "null" for NaN.
const char *eg_num(char *buf, double v);
double eg_psnr(const float *a, const float *b, int n);
double eg_psnr_u8(const uint8_t *a, const uint8_t *b, size_t n);
// Frames per second of dream:MODEL with 64 envs under uniform random actions in [0, K)
// (0 with a message when the env cannot be made).
double eg_dream_fps(const char *model, int K);

// Rollout windows on held-out frames: the starts s (into starts, count *ns) of contexts
// (x_s, x_{s+1}) followed by W frames of one episode; W is EG_ROLL_T, or the longest a
// game's short episodes allow (Catch: 6); returns W (< 4: none, *ns 0).
int eg_rollout_starts(const lc_frames *fr, size_t hold0, size_t *starts, size_t *ns);

// Latent-action consistency on the held-out triples (centres idx, the LAM's codes, the
// code x true action counts conf (K, A)) and the map from <= labels labelled training
// transitions (lab), scored by effect when effects names a frame-effects file. -1 (with a
// message) when there are too few held-out transitions or the effects do not fit.
typedef struct eg_consistency {
    size_t nh;
    int used, nl, map[256];
    double consistency, chance, label_acc;
    eval_effects eff; // the label map scored by effect (effects file given)
} eg_consistency;
int eg_measure_consistency(const lc_genie *g, const float *X, const lc_frames *fr,
                           size_t hold0, int labels, const char *effects, size_t *idx,
                           int *codes, long *conf,
                           size_t *lab, eg_consistency *o);

// The controller half, for either design (worldmodel/genie_world.h): the dream beside the
// real game under the dream's own random play; with a policy, the policy in the real game
// through the latent->real map beside uniform random play and the best fixed real action,
// and its own lockstep.
typedef struct eg_ctl {
    int has_policy, episodes;
    lc_genie_lockstep ls, pls; // random play (ls.windows 0: skipped), the policy's
    double pol_mean, pol_sd, rnd_mean, rnd_sd, fix_mean;
    int fix_action;
} eg_ctl;
// 0, or 1 after printing why (a bad --policy, an env error). The random-play lockstep is
// skipped with a note where the real game cannot be made; the rest then fails.
int eg_controller(const eg_args *a, const int *map, eg_ctl *out);
// Its JSON keys, each as ",\"key\":value" (the caller opens and closes the object).
void eg_ctl_json(const eg_ctl *c);
// Its text lines.
void eg_ctl_text(const eg_ctl *c, const char *env_name);

// Each design's held-out metrics and report; 0 or 1 (the exit status).
int eg_pixels(const eg_args *a);
int eg_tokens(const eg_args *a);

#endif
