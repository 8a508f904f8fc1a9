// tests/helpers/env_contract.h: the env contract (DESIGN.md) as a reusable Check TCase.
// lc_contract_tcase("CartPole-v1", NULL) returns a test case whose tests make the
// env by name through the public API only. Leaves out: env-specific dynamics checks.
#ifndef LC_TESTS_ENV_CONTRACT_H
#define LC_TESTS_ENV_CONTRACT_H

#include <check.h>

// One TCase per call (up to 32 per process); params go to lc_env_opts.params.
// The tests: spaces sane; reset determinism; bit-identical trajectories for 1 and 2
// threads; same-step autoreset keeps final_obs and starts afresh (checked against
// LC_AUTORESET_DISABLED + lc_env_reset_mask); terminated and truncated never both;
// truncation at a time limit of 7; episode statistics; reset masks; invalid actions
// rejected with nothing changed; render gives a frame of the spec's size.
TCase *lc_contract_tcase(const char *env_name, const char *params);

#endif
