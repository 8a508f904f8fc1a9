// agents/remote.h: the "remote:ENDPOINT" env family: lucid's env API over envs that
// another process serves with the env protocol (docs/PROTOCOL.md): `lucid serve`, or
// Python Gymnasium envs through lucid.serve_gym. Leaves out: CURVE, reconnection.
#ifndef LC_AGENTS_REMOTE_H
#define LC_AGENTS_REMOTE_H

#include "core/api.h"

LC_API_BEGIN

// Registers the "remote:" prefix (idempotent). lc_init (loops/) cannot call it, being
// below agents/: the CLI, the env server, the worker and the Python package call it
// after lc_init; a C program that wants remote: envs calls it too.
//
// remote:ENDPOINT, e.g. remote:tcp://127.0.0.1:5557; lc_env_opts.params (or a
// "?k=v" after the endpoint) takes timeout=SEC, seconds to wait for each reply
// (default 10; 0.01..3600). The server makes its default env (`lucid serve --env`,
// serve_gym's env_fn); num_envs and max_episode_steps go to it in "make". The server does the
// autoreset (final_obs, truncation); autoreset must be SAME_STEP or DISABLED and
// action_repeat 1. A server that stops answering fails the reset or step within the
// timeout (LC_ERR_NET); after any error the env refuses further steps.
int lc_remote_register(void);

LC_API_END

#endif
