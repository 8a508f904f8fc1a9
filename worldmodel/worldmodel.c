// worldmodel/worldmodel.c: registration of the world-model envs with the env registry.
// The registry is process-wide, so registering twice only replaces the entry.
// Leaves out: unregistering.
#include "worldmodel/worldmodel.h"

void lc_worldmodel_register(void) {
    lc_env_register("dream:", lc_dream_env_ctor,
                    "a learned world model as an env: dream:MODEL.lucid[?temperature=T,penalty=L,"
                    "branch=1,horizon=H]");
}
