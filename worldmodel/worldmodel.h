// worldmodel/worldmodel.h: the world-model layer in one include: trajectory datasets,
// the probabilistic ensemble and the "dream:" envs built from it.
// Leaves out: the Genie-style latent action models (their own headers).
#ifndef LC_WORLDMODEL_WORLDMODEL_H
#define LC_WORLDMODEL_WORLDMODEL_H

#include "core/api.h"

#include "worldmodel/dataset.h"
#include "worldmodel/dream.h"
#include "worldmodel/ensemble.h"

LC_API_BEGIN

// Registers the "dream:" prefix with the env registry (idempotent). Programs call it
// once after lc_env_register_builtin(), before making "dream:FILE" envs.
void lc_worldmodel_register(void);

LC_API_END

#endif
