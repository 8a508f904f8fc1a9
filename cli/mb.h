// cli/mb.h: what the model-based verbs (collect, dyna, demo, train-wm) share: the
// library's Dyna loop (loops/dyna.h), a policy as a dataset collector (loops/actor.h),
// and mkdir -p. The cli_mb_actor / cli_json_str names are kept for the verbs that
// use them; new code calls lc_actor_* and lc_json_fstr directly.
// Leaves out: everything the library does (this header only forwards to it).
#ifndef LC_CLI_MB_H
#define LC_CLI_MB_H

#include <stdint.h>
#include <stdio.h>

#include "core/json.h"
#include "loops/actor.h"
#include "loops/dyna.h"

typedef lc_actor cli_mb_actor;
static inline int cli_mb_actor_load(cli_mb_actor **out, const char *path, const lc_env *env,
                                    uint64_t seed, lc_error *err) {
    return lc_actor_load(out, path, env, seed, err);
}
static inline void cli_mb_actor_free(cli_mb_actor *a) { lc_actor_free(a); }
#define cli_mb_actor_act lc_actor_act
static inline void cli_json_str(FILE *out, const char *s) { lc_json_fstr(out, s); }

// mkdir -p; 0 on success (defined in cli/dyna.c).
int cli_mkdirs(const char *path);

#endif
