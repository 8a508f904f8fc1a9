// cli/eval_effects.c: eval-genie's consistency by effect (eval_effects.h). Leaves out: the
// map from codes to actions (eval-genie's 200-label map is passed in).
#include "cli/eval_effects.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int eval_effects_score(const char *path, const lc_frames *fr, const size_t *t, const int *codes,
                       size_t n, const int *map, eval_effects *out) {
    out->effective = out->merged = out->ceiling = out->frac = NAN;
    if (!path) return 0;
    lc_error err = {0};
    lc_frame_effects fx = {0};
    lc_effects_score sc;
    size_t *rows = malloc((n ? n : 1) * sizeof(size_t));
    int *pred = malloc((n ? n : 1) * sizeof(int));
    int rc = rows && pred ? LC_OK : lc_fail(&err, LC_ERR_NOMEM, "out of memory");
    if (!rc) rc = lc_frame_effects_load(&fx, path, fr, &err);
    for (size_t i = 0; i < n && !rc; i++) rows[i] = t[i] + 1, pred[i] = map[codes[i]];
    if (!rc) rc = lc_frame_effects_score(&fx, fr, rows, pred, n, &sc, &err);
    if (!rc) {
        out->effective = sc.consistency_effective, out->merged = sc.consistency_merged;
        out->ceiling = sc.ceiling, out->frac = sc.effective_frac;
    } else {
        fprintf(stderr, "lucid eval-genie: %s\n", err.msg);
    }
    lc_frame_effects_free(&fx);
    free(rows);
    free(pred);
    return rc ? -1 : 0;
}

void eval_effects_json(const eval_effects *e, char *buf, size_t cap) {
    if (isnan(e->effective))
        snprintf(buf, cap, ",\"consistency_effective\":null,\"consistency_merged\":null,"
                 "\"consistency_ceiling\":null,\"effective_frac\":null");
    else
        snprintf(buf, cap, ",\"consistency_effective\":%.4f,\"consistency_merged\":%.4f,"
                 "\"consistency_ceiling\":%.4f,\"effective_frac\":%.4f", e->effective, e->merged,
                 e->ceiling, e->frac);
}

void eval_effects_print(const eval_effects *e) {
    if (isnan(e->effective)) return;
    printf("by effect (--effects; a prediction is right when its action has the true action's "
           "effect): %.1f%% of the %.1f%% of transitions where the action mattered, %.1f%% of "
           "all (no-op duplicates merged); exact-action ceiling of these transitions %.1f%%\n",
           100 * e->effective, 100 * e->frac, 100 * e->merged, 100 * e->ceiling);
}
