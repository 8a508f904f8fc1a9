// loops/init.c: lc_init() (see init.h). It lives in loops/, the lowest layer that
// sees both env/ (the built-ins) and worldmodel/ (the "dream:" prefix).
// Leaves out: unregistering.
#include "loops/init.h"

#include "core/error.h"
#include "env/env.h"
#include "worldmodel/worldmodel.h"

int lc_init(void) {
    lc_env_register_builtin();
    lc_worldmodel_register();
    return LC_OK;
}
