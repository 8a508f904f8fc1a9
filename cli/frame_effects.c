// cli/frame_effects.c: `lucid frame-effects`: replays a frames file's recording with its true
// actions and writes which actions had the same effect at each step (FRAMES.effects.lucid,
// read by eval-genie --effects), with the consistency ceiling of the data. Leaves out:
// recordings of envs that cannot copy their state.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "worldmodel/frame_effects.h"
#include "worldmodel/frames.h"

int cmd_frame_effects(int argc, char **argv) {
    const char *data = NULL, *actions = NULL, *out = NULL;
    int num_envs = 1, quiet = 0;
    int64_t seed = 1;
    cli_opt opts[] = {
        {"data", CLI_STR, &data, "frames file (lucid collect --frames-only, at the game's side)"},
        {"actions", CLI_STR, &actions, "its true actions"},
        {"num-envs", CLI_INT, &num_envs, "envs it was recorded with (collect --num-envs)"},
        {"seed", CLI_I64, &seed, "seed it was recorded with (collect --seed)"},
        {"out", CLI_STR, &out, "effects file to write"},
        {"quiet", CLI_FLAG, &quiet, "print nothing but errors"},
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid frame-effects --data FRAMES --actions ACTIONS --num-envs K "
                       "--seed S --out EFFECTS", NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    if (!data || !actions || !out) {
        fprintf(stderr, "lucid frame-effects: --data, --actions and --out are required\n");
        return 2;
    }
    lc_error err = {0};
    lc_frames fr;
    lc_frame_effects fx = {0};
    if (lc_frames_load(&fr, data, actions, &err) != LC_OK) {
        fprintf(stderr, "lucid frame-effects: %s\n", err.msg);
        return 1;
    }
    size_t m = 0;
    size_t *rows = malloc(fr.n * sizeof(size_t));
    int *pred = malloc(fr.n * sizeof(int));
    lc_effects_score sc;
    rc = rows && pred ? LC_OK : lc_fail(&err, LC_ERR_NOMEM, "out of memory");
    if (!rc) rc = lc_frame_effects_replay(&fx, &fr, num_envs, (uint64_t)seed, &err);
    for (size_t r = 0; r < fr.n && !rc; r++)
        if (!fr.starts[r]) rows[m] = r, pred[m++] = fr.actions[r];
    if (!rc) rc = lc_frame_effects_score(&fx, &fr, rows, pred, m, &sc, &err);
    if (!rc) rc = lc_frame_effects_save(&fx, out, &err);
    if (rc) {
        fprintf(stderr, "lucid frame-effects: %s\n", err.msg);
    } else if (!quiet) {
        printf("%s: %zu steps replayed; the true action's effect differs from another action's "
               "in %.1f%% of them; the best exact-action consistency any reader of the frames "
               "can reach: %.1f%%\nwrote %s\n", fr.env_name, m, 100 * sc.effective_frac,
               100 * sc.ceiling, out);
    }
    free(rows);
    free(pred);
    lc_frame_effects_free(&fx);
    lc_frames_free(&fr);
    return rc ? 1 : 0;
}
