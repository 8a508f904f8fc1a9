// lucid.h: the whole public C API in one include: `#include <lucid.h>` with the
// flags of `pkg-config --cflags lucid`. Call lc_init() once before naming envs.
// Leaves out: the internal headers (env backends, the wire protocol's codec, nn's
// kernels), which are not installed and whose symbols liblucid.so does not export.
#ifndef LUCID_H
#define LUCID_H

#include "core/api.h"      // LC_VERSION, lc_version()
#include "core/error.h"    // lc_status, lc_error
#include "core/file.h"     // the container: checkpoints, datasets
#include "core/image.h"    // PNG, GIF
#include "core/metrics.h"  // CSV / JSONL metrics
#include "core/progress.h" // progress lines
#include "core/resize.h"   // the one frame-resize rule (area average)
#include "core/rng.h"      // seeded, splittable RNG
#include "core/settings.h" // settings tables
#include "nn/nn.h"         // layers, losses, optimisers, parameter arenas
#include "env/env.h"       // the vectorized env API and its registry
#include "env/pomdp.h"     // CartPoleNoVel-v1
#include "worldmodel/worldmodel.h" // lc_worldmodel_register
#include "worldmodel/dataset.h"    // trajectory datasets
#include "worldmodel/ensemble.h"   // ensemble dynamics models
#include "worldmodel/dream.h"      // dream: envs over an ensemble
#include "worldmodel/frames.h"     // frame datasets
#include "worldmodel/video.h"      // frames datasets from video files (FFmpeg)
#include "worldmodel/frame_effects.h" // which actions had the same effect (evaluation)
#include "worldmodel/genie.h"      // Genie-style worlds from frames (pixel design)
#include "worldmodel/tokenizer.h"  // the VQ frame tokenizer
#include "worldmodel/genie_tokens.h" // Genie-style worlds over tokens
#include "worldmodel/genie_world.h" // either design: controllers in the real game, lockstep
#include "policy/policy.h" // policies
#include "policy/ppo.h"    // PPO, evaluation
#include "agents/learner.h" // distributed PPO learner
#include "agents/worker.h"  // rollout worker
#include "agents/server.h"  // env server
#include "agents/remote.h"  // remote:ENDPOINT envs (lc_remote_register)
#include "loops/init.h"     // lc_init()
#include "loops/dyna.h"     // the Dyna loop
#include "loops/actor.h"    // a policy as a collector
#include "loops/bench_arch.h" // the architecture benchmark
#include "core/stats.h"     // IQM, bootstrap intervals
#include "env/pomdp.h"      // CartPoleNoVel-v1

#endif
