// cli/eval_effects.h: eval-genie's consistency by effect (--effects FILE): which of the
// held-out predictions had the true action's effect. Leaves out: the effects' recording
// (lucid frame-effects).
#ifndef LC_CLI_EVAL_EFFECTS_H
#define LC_CLI_EVAL_EFFECTS_H

#include <stddef.h>

#include "worldmodel/frame_effects.h"
#include "worldmodel/frames.h"

// Scores the LAM's codes of n held-out triples (centres t: the step into frame t + 1) read
// through map (code -> real action) against the effects file at path (NULL: out is all NaN
// and 0 is returned). 0, or -1 after printing why to stderr.
typedef struct eval_effects {
    double effective, merged, ceiling, frac; // NaN without an effects file
} eval_effects;
int eval_effects_score(const char *path, const lc_frames *fr, const size_t *t, const int *codes,
                       size_t n, const int *map, eval_effects *out);
// The four figures as JSON members (",\"consistency_effective\":...", nulls without a file).
void eval_effects_json(const eval_effects *e, char *buf, size_t cap);
// One text line of the figures (nothing without an effects file).
void eval_effects_print(const eval_effects *e);

#endif
