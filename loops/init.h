// loops/init.h: lc_init(), the one registration call of the library: every built-in
// env (classic control, pixel games, CartPoleNoVel) and the "dream:" prefix.
// Leaves out: plugins (register your own envs with lc_env_register after lc_init).
#ifndef LC_LOOPS_INIT_H
#define LC_LOOPS_INIT_H

#include "core/api.h"

LC_API_BEGIN

// Registers everything lucid ships; idempotent and thread-safe. Returns LC_OK.
int lc_init(void);

LC_API_END

#endif
