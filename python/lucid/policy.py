"""lucid.policy: a trained lucid policy (policy/policy.h) acting from Python, in C.

Leaves out: training from Python (lucid's `train` verb and lc_ppo do that).
"""
import os

import numpy as np

from ._core import ActionError, StateError, check, ffi, lib, new_error, space_dtype, space_shape, to_gym_space


class Policy:
    """A policy file loaded with lc_policy_load; act() runs its network in C."""

    def __init__(self, handle, seed=0):
        self._handle = handle
        self._err = new_error()
        self._rng = ffi.new("lc_rng *")
        lib.lc_rng_seed(self._rng, seed, 0)
        obs, act = lib.lc_policy_obs_space(handle), lib.lc_policy_act_space(handle)
        self.observation_space = to_gym_space(obs)
        self.action_space = to_gym_space(act)
        self.env_name = ffi.string(lib.lc_policy_env_name(handle)).decode()
        self._obs_shape, self._obs_dtype = space_shape(obs), space_dtype(obs)
        self._act_shape, self._act_dtype = space_shape(act), space_dtype(act)
        self.recurrent = lib.lc_policy_state_size(handle) > 0

    @classmethod
    def load(cls, path, seed=0):
        """Loads a policy file (lucid train's output). seed: the sampler of act(deterministic=False)."""
        out = ffi.new("lc_policy **")
        err = new_error()
        check(lib.lc_policy_load(out, os.fsencode(path), err), err)
        return cls(ffi.gc(out[0], lib.lc_policy_free), seed)

    def save(self, path):
        check(lib.lc_policy_save(self._live(), os.fsencode(path), self._err), self._err)

    def _live(self):
        if self._handle is None:
            raise StateError("the policy is closed")
        return self._handle

    def act(self, obs, deterministic=True, episode_start=None):
        """Actions for a batch of observations (N, *obs_shape), or one observation.
        deterministic: argmax / Gaussian mean, else sampled from the policy's own RNG.
        episode_start (N,) bools reset recurrent state where set. Returns int32 (N,) for
        Discrete, (N, A) for MultiDiscrete/Box (one row without the batch axis for one obs)."""
        h = self._live()
        o = np.asarray(obs)
        single = o.shape == self._obs_shape
        if single:
            o = o[None]
        if o.ndim != len(self._obs_shape) + 1 or o.shape[1:] != self._obs_shape or o.shape[0] < 1:
            raise ActionError(f"observations have shape {np.asarray(obs).shape}, expected (N, "
                              f"{', '.join(map(str, self._obs_shape))})")
        if o.dtype.kind not in "fiu":
            raise ActionError(f"observations have dtype {o.dtype}, expected {self._obs_dtype}")
        o = np.ascontiguousarray(o, dtype=self._obs_dtype)
        n = o.shape[0]
        starts = ffi.NULL
        if episode_start is not None:
            st = np.ascontiguousarray(episode_start, dtype=np.uint8).reshape(-1)
            if st.shape != (n,):
                raise ActionError(f"episode_start has {st.size} entries for {n} observations")
            starts = ffi.from_buffer("uint8_t[]", st)
        actions = np.empty((n,) + self._act_shape, self._act_dtype)
        ctype = "float[]" if self._act_dtype == np.float32 else "int32_t[]"
        rc = lib.lc_policy_act(h, ffi.from_buffer("char[]", o), n, starts, int(bool(deterministic)),
                               self._rng, ffi.from_buffer(ctype, actions), ffi.NULL, ffi.NULL, self._err)
        check(rc, self._err)
        return actions[0] if single else actions

    def reset_state(self):
        lib.lc_policy_reset_state(self._live())

    def close(self):
        self._handle = None
