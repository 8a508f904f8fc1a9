// cli/frames_cat.c: `lucid frames-cat`: concatenates frames datasets (random play and a
// policy's play, say) with their true actions and, where every input has one, their effects
// files, into one dataset whose held-out tail is the last input's. Leaves out: shuffling
// episodes (the tail stays the last input's on purpose).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "worldmodel/frame_effects.h"
#include "worldmodel/frames.h"

int cmd_frames_cat(int argc, char **argv) {
    const char *out = NULL, *in[64];
    int nin = 0, quiet = 0;
    cli_opt opts[] = {
        {"out", CLI_STR, &out, "frames file to write (OUT.actions.lucid, OUT.effects.lucid beside)"},
        {"quiet", CLI_FLAG, &quiet, "print nothing but errors"},
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid frames-cat --out FRAMES IN1.lucid IN2.lucid ... (each with "
                       "IN.actions.lucid beside it; IN.effects.lucid too where all have one)",
                       in, 64, &nin);
    if (rc) return rc == 1 ? 0 : 2;
    if (!out || nin < 1) {
        fprintf(stderr, "lucid frames-cat: --out and at least one input are required\n");
        return 2;
    }
    char ap[4096], ep[4096];
    int effects = 1;
    for (int i = 0; i < nin; i++) {
        cli_frames_side_path(ep, sizeof ep, in[i], "effects");
        effects &= access(ep, R_OK) == 0;
    }
    lc_error err = {0};
    lc_frames all = {0}, fr;
    lc_frame_effects fx = {0}, one;
    rc = LC_OK;
    for (int i = 0; i < nin && !rc; i++) {
        cli_frames_side_path(ap, sizeof ap, in[i], "actions");
        if ((rc = lc_frames_load(i == 0 ? &all : &fr, in[i], ap, &err))) break;
        cli_frames_side_path(ep, sizeof ep, in[i], "effects");
        if (effects) rc = lc_frame_effects_load(i == 0 ? &fx : &one, ep, i == 0 ? &all : &fr, &err);
        if (i == 0 || rc) {
            if (i > 0) lc_frames_free(&fr);
            continue;
        }
        rc = lc_frames_concat(&all, &fr, &err);
        if (!rc && effects) rc = lc_frame_effects_append(&fx, &one, &err);
        if (effects) lc_frame_effects_free(&one);
        lc_frames_free(&fr);
    }
    cli_frames_side_path(ap, sizeof ap, out, "actions");
    cli_frames_side_path(ep, sizeof ep, out, "effects");
    if (!rc) rc = lc_frames_save(&all, out, ap, &err);
    if (!rc && effects) rc = lc_frame_effects_save(&fx, ep, &err);
    if (rc)
        fprintf(stderr, "lucid frames-cat: %s\n", err.msg);
    else if (!quiet)
        printf("wrote %s (%zu frames, %zu episodes of %s from %d files), %s%s%s\n", out, all.n,
               lc_frames_episodes(&all), all.env_name, nin, ap, effects ? " and " : "",
               effects ? ep : "");
    lc_frames_free(&all);
    lc_frame_effects_free(&fx);
    return rc ? 1 : 0;
}
