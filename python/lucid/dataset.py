"""lucid.dataset: lucid's trajectory datasets (worldmodel/dataset.h) from Python: load, save,
validate, record from a lucid env, append runs a Python loop produced, read the columns.

Rows are grouped by trajectory (see dataset.h). Column properties return copies of the
n rows (appending may move lucid's buffers). Leaves out: frame datasets (Genie).
"""
import os

import numpy as np

from ._core import ArgumentError, check, ffi, lib, new_error, space_dtype, space_shape, to_gym_space


class Dataset:
    """An lc_dataset; its memory is lucid's, freed with this object."""

    def __init__(self):
        self._ds = ffi.gc(ffi.new("lc_dataset *"), lib.lc_dataset_free)
        self._err = new_error()

    @classmethod
    def load(cls, path):
        """Reads and validates a dataset file (lucid collect's output)."""
        d = cls()
        check(lib.lc_dataset_load(d._ds, os.fsencode(path), d._err), d._err)
        return d

    @classmethod
    def for_env(cls, env):
        """An empty dataset for a lucid env (lucid.make / lucid.make_vec): its name, spaces, time limit."""
        d = cls()
        check(lib.lc_dataset_init_for_env(d._ds, env._core.live(), d._err), d._err)
        return d

    @classmethod
    def collect(cls, env, steps, seed=1):
        """Records `steps` transitions of uniformly random actions from env (reset with seed),
        as `lucid collect` does."""
        d = cls.for_env(env)
        check(lib.lc_dataset_collect(d._ds, env._core.live(), int(steps), ffi.NULL, ffi.NULL, seed, ffi.NULL,
                                     ffi.NULL, d._err), d._err)
        return d

    def add_run(self, obs, actions, rewards, terminated, truncated, next_obs, starts=None):
        """Appends T steps of K envs in time-major order, as a vector env gives them: obs and
        next_obs (T, K, O), actions (T, K) or (T, K, A), rewards/terminated/truncated (T, K),
        starts (T, K) or None (then the first step and the steps after an end start episodes)."""
        ds = self._ds
        o = np.ascontiguousarray(obs, dtype=np.float32)
        if o.ndim < 2:
            raise ArgumentError(f"obs has shape {o.shape}, expected (T, K, {ds.obs_size})")
        T, K = o.shape[:2]
        adt = space_dtype(ds.act_space)
        ash = (T, K) + space_shape(ds.act_space)
        cols = {
            "obs": (o, np.float32, (T, K, ds.obs_size)),
            "next_obs": (next_obs, np.float32, (T, K, ds.obs_size)),
            "actions": (actions, adt, ash),
            "rewards": (rewards, np.float32, (T, K)),
            "terminated": (terminated, np.uint8, (T, K)),
            "truncated": (truncated, np.uint8, (T, K)),
        }
        if starts is not None:
            cols["starts"] = (starts, np.uint8, (T, K))
        arr = {}
        for k, (v, dt, shape) in cols.items():
            a = np.ascontiguousarray(v, dtype=dt)
            if a.size != int(np.prod(shape)):
                raise ArgumentError(f"{k} has shape {np.shape(v)}, expected {shape}")
            arr[k] = a
        ctype = {np.dtype(np.float32): "float[]", np.dtype(np.uint8): "uint8_t[]", np.dtype(np.int32): "int32_t[]"}
        ptr = {k: ffi.from_buffer(ctype[a.dtype], a) for k, a in arr.items()}
        check(lib.lc_dataset_add_run(ds, T, K, ptr["obs"], ptr["actions"], ptr["rewards"], ptr["terminated"],
                                     ptr["truncated"], ptr["next_obs"], ptr.get("starts", ffi.NULL), self._err),
              self._err)

    def validate(self):
        check(lib.lc_dataset_validate(self._ds, self._err), self._err)

    def save(self, path):
        check(lib.lc_dataset_save(self._ds, os.fsencode(path), self._err), self._err)

    def __len__(self):
        return self._ds.n

    @property
    def env_name(self):
        return ffi.string(self._ds.env_name).decode()

    @property
    def episodes(self):
        return lib.lc_dataset_episodes(self._ds)

    @property
    def observation_space(self):
        return to_gym_space(self._ds.obs_space)

    @property
    def action_space(self):
        return to_gym_space(self._ds.act_space)

    def _col(self, ptr, dtype, width):
        n = self._ds.n
        shape = (n,) if width is None else (n,) + width
        count = int(np.prod(shape))
        if n == 0:
            return np.zeros(shape, dtype)
        dtype = np.dtype(dtype)
        return np.frombuffer(ffi.buffer(ffi.cast("char *", ptr), count * dtype.itemsize), dtype).reshape(shape).copy()

    @property
    def obs(self):
        return self._col(self._ds.obs, np.float32, (self._ds.obs_size,))

    @property
    def next_obs(self):
        return self._col(self._ds.next_obs, np.float32, (self._ds.obs_size,))

    @property
    def actions(self):
        s = self._ds.act_space
        return self._col(self._ds.actions, space_dtype(s), space_shape(s) or None)

    @property
    def rewards(self):
        return self._col(self._ds.rewards, np.float32, None)

    @property
    def terminated(self):
        return self._col(self._ds.terminated, np.bool_, None)

    @property
    def truncated(self):
        return self._col(self._ds.truncated, np.bool_, None)

    @property
    def starts(self):
        return self._col(self._ds.starts, np.bool_, None)
