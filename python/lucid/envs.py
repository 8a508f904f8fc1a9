"""lucid.envs: lucid's envs as gymnasium.vector.VectorEnv (make_vec) and gymnasium.Env (make).

Observations, rewards, terminated and truncated are numpy arrays over lucid's own
buffers (no copies; the arrays keep the C env alive). Autoreset modes: NEXT_STEP
(Gymnasium's default: lucid's LC_AUTORESET_NEXT_STEP), SAME_STEP (final observations
in infos["final_obs"] as Gymnasium's SyncVectorEnv gives them) and DISABLED (reset
ended envs with reset(options={"reset_mask": mask})). Leaves out: async stepping.
"""
import secrets

import numpy as np
import gymnasium
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from ._core import (
    ActionError,
    ArgumentError,
    StateError,
    UnsupportedError,
    check,
    ffi,
    lib,
    new_error,
    params_string,
    space_dtype,
    space_shape,
    to_gym_space,
    view,
)

_MODES = {
    AutoresetMode.NEXT_STEP: lib.LC_AUTORESET_NEXT_STEP,
    AutoresetMode.SAME_STEP: lib.LC_AUTORESET_SAME_STEP,
    AutoresetMode.DISABLED: lib.LC_AUTORESET_DISABLED,
}


def _mode(m):
    if isinstance(m, str):
        for k in _MODES:
            if m in (k.value, k.name):
                return k
        raise ArgumentError(f"autoreset_mode {m!r} is not one of {[k.name for k in _MODES]}")
    if m not in _MODES:
        raise ArgumentError(f"autoreset_mode {m!r} is not a gymnasium.vector.AutoresetMode")
    return m


def _check_seed(name, seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or seed < 0 or seed >= 2**64):
        raise ArgumentError(f"{name}: seed {seed!r} is not an int in [0, 2**64)")


class _Core:
    """One lc_env and numpy views of its buffers."""

    def __init__(self, name, num_envs, autoreset, max_episode_steps, num_threads, params, resize=None):
        if not isinstance(name, str):
            raise ArgumentError(f"env name must be a str, not {type(name).__name__}")
        if not isinstance(num_envs, (int, np.integer)) or isinstance(num_envs, bool) or num_envs < 1:
            raise ArgumentError(f"{name}: num_envs must be an int >= 1, not {num_envs!r}")
        opts = ffi.new("lc_env_opts *", lib.lc_env_opts_default())
        opts.num_envs = int(num_envs)
        opts.num_threads = int(num_threads)
        opts.autoreset = autoreset
        if max_episode_steps is not None:
            opts.max_episode_steps = int(max_episode_steps) if max_episode_steps > 0 else -1
        if resize is not None:
            if (not isinstance(resize, (tuple, list)) or len(resize) != 2
                    or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in resize)):
                raise ArgumentError(f"{name}: resize must be (height, width), two ints > 0, not {resize!r}")
            opts.resize_h, opts.resize_w = int(resize[0]), int(resize[1])
        pstr = ffi.new("char[]", params_string(params).encode()) if params else ffi.NULL
        opts.params = pstr
        out = ffi.new("lc_env **")
        err = new_error()
        check(lib.lc_env_make(out, name.encode(), opts, err), err)
        self.handle = ffi.gc(out[0], lib.lc_env_free)
        self.err = err
        spec = lib.lc_env_get_spec(self.handle)
        self.name = ffi.string(spec.name).decode()
        self.num_envs = n = spec.num_envs
        self.obs_space = to_gym_space(spec.obs_space)
        self.act_space = to_gym_space(spec.act_space)
        self.act_kind = spec.act_space.kind
        self.act_shape = (n,) + space_shape(spec.act_space)
        self.max_episode_steps = spec.max_episode_steps
        self.info_names = [ffi.string(spec.info_names[k]).decode() for k in range(spec.n_info)]
        self.render_size = (spec.render_h, spec.render_w)
        buf = lib.lc_env_get_buf(self.handle)
        odt, oshape = space_dtype(spec.obs_space), space_shape(spec.obs_space)
        h = self.handle
        self.obs = view(h, buf.obs, n * spec.obs_size, odt, (n,) + oshape)
        self.final_obs = view(h, buf.final_obs, n * spec.obs_size, odt, (n,) + oshape)
        self.rewards = view(h, buf.rewards, n, np.float32, (n,))
        self.terminated = view(h, buf.terminated, n, np.bool_, (n,))
        self.truncated = view(h, buf.truncated, n, np.bool_, (n,))
        self.done = view(h, buf.done, n, np.bool_, (n,))
        self.ep_return = view(h, buf.ep_return, n, np.float32, (n,))
        self.ep_length = view(h, buf.ep_length, n, np.int32, (n,))
        self.info = view(h, buf.info, n * spec.n_info, np.float32, (n, spec.n_info)) if spec.n_info else None
        self.act = np.zeros(self.act_shape, np.int32 if self.act_kind != lib.LC_SPACE_BOX else np.float32)
        self.was_reset = False

    def live(self):
        if self.handle is None:
            raise StateError(f"{self.name}: the env is closed")
        return self.handle

    def reset(self, seed=None, mask=None):
        h = self.live()
        if mask is not None:
            m = np.ascontiguousarray(mask, dtype=np.uint8)
            if m.shape != (self.num_envs,):
                raise ArgumentError(f"{self.name}: reset_mask has shape {m.shape}, expected ({self.num_envs},)")
            check(lib.lc_env_reset_mask(h, ffi.from_buffer("uint8_t[]", m), self.err), self.err)
            return
        if seed is None and self.was_reset:  # continue every env's generator, as Gymnasium does
            m = np.ones(self.num_envs, np.uint8)
            check(lib.lc_env_reset_mask(h, ffi.from_buffer("uint8_t[]", m), self.err), self.err)
            return
        if seed is None:
            seed = secrets.randbits(64)  # unseeded first reset: fresh entropy, as Gymnasium
        check(lib.lc_env_reset(h, seed, self.err), self.err)
        self.was_reset = True

    def actions(self, actions):
        """actions as the C array lc_env_step reads, checked for shape and dtype."""
        a = np.asarray(actions)
        if a.shape != self.act_shape:
            raise ActionError(f"{self.name}: actions have shape {a.shape}, expected {self.act_shape}")
        if self.act_kind == lib.LC_SPACE_BOX:
            if a.dtype.kind not in "fiu":
                raise ActionError(f"{self.name}: actions have dtype {a.dtype}, expected a float array")
            if a.dtype != np.float32 or not a.flags.c_contiguous:
                np.copyto(self.act, a, casting="unsafe")
                a = self.act
            return ffi.from_buffer("float[]", a)
        if a.dtype.kind not in "iu":
            raise ActionError(f"{self.name}: actions have dtype {a.dtype}, expected an integer array")
        if a.dtype != np.int32 or not a.flags.c_contiguous:
            if a.dtype.itemsize >= 4 and a.size and (a.min() < -(2**31) or a.max() >= 2**31):
                raise ActionError(f"{self.name}: action {a.max() if a.max() >= 2**31 else a.min()} "
                                  "is outside the action space")
            np.copyto(self.act, a, casting="unsafe")
            a = self.act
        return ffi.from_buffer("int32_t[]", a)

    def step(self, actions):
        h = self.live()
        ptr = self.actions(actions)
        check(lib.lc_env_step(h, ptr, self.err), self.err)

    def render(self, i):
        h = self.live()
        rgb = np.empty(self.render_size + (3,), np.uint8)
        check(lib.lc_env_render(h, i, ffi.from_buffer("uint8_t[]", rgb), self.err), self.err)
        return rgb

    def close(self):
        # Drop this reference only: the arrays handed out keep the C env alive until they go.
        self.handle = None


class LucidVectorEnv(gymnasium.vector.VectorEnv):
    """num_envs copies of a lucid env stepped in C, as a Gymnasium 1.x VectorEnv."""

    def __init__(self, name, num_envs=1, *, autoreset_mode=AutoresetMode.NEXT_STEP, render_mode=None,
                 max_episode_steps=None, num_threads=0, resize=None, **params):
        mode = _mode(autoreset_mode)
        if render_mode not in (None, "rgb_array"):
            raise ArgumentError(f"{name}: render_mode {render_mode!r} is not None or 'rgb_array'")
        self._core = c = _Core(name, num_envs, _MODES[mode], max_episode_steps, num_threads, params, resize)
        self.num_envs = c.num_envs
        self.single_observation_space = c.obs_space
        self.single_action_space = c.act_space
        self.observation_space = batch_space(c.obs_space, c.num_envs)
        self.action_space = batch_space(c.act_space, c.num_envs)
        self.metadata = {"autoreset_mode": mode, "render_modes": ["rgb_array"]}
        self.render_mode = render_mode
        self.spec = None
        self.autoreset_mode = mode
        self.env_name = c.name

    def _infos(self):
        c = self._core
        infos = {}
        if c.info is not None:
            for k, name in enumerate(c.info_names):
                infos[name] = c.info[:, k]
                infos["_" + name] = np.ones(c.num_envs, np.bool_)
        return infos

    def reset(self, *, seed=None, options=None):
        mask = None
        if options:
            options = dict(options)
            mask = options.pop("reset_mask", None)
            if options:
                raise ArgumentError(f"{self.env_name}: unknown reset options {sorted(options)} (known: reset_mask)")
        if isinstance(seed, (list, tuple)):
            if len(seed) != self.num_envs:
                raise ArgumentError(f"{self.env_name}: {len(seed)} seeds for {self.num_envs} envs")
            if any(s is None for s in seed):
                if any(s is not None for s in seed):
                    raise UnsupportedError(f"{self.env_name}: lucid seeds env i with seed + i; "
                                           "other lists of seeds are not supported")
                seed = None
            elif list(seed) != list(range(seed[0], seed[0] + self.num_envs)):
                raise UnsupportedError(f"{self.env_name}: lucid seeds env i with seed + i; "
                                           "other lists of seeds are not supported")
            else:
                seed = seed[0]
        _check_seed(self.env_name, seed)
        if mask is not None and seed is not None:
            raise ArgumentError(f"{self.env_name}: reset with both a seed and a reset_mask")
        self._core.reset(None if seed is None else int(seed), mask)
        return self._core.obs, self._infos()

    def step(self, actions):
        c = self._core
        c.step(actions)
        infos = self._infos()
        if self.autoreset_mode == AutoresetMode.SAME_STEP and c.done.any():
            for i in np.flatnonzero(c.done):
                infos = self._add_info(infos, {"final_obs": c.final_obs[i].copy(), "final_info": {}}, i)
        return c.obs, c.rewards, c.terminated, c.truncated, infos

    def render(self):
        if self.render_mode is None:
            gymnasium.logger.warn("render() without render_mode: make the env with render_mode='rgb_array'")
            return None
        return tuple(self._core.render(i) for i in range(self.num_envs))

    def close_extras(self, **kwargs):
        self._core.close()

    @property
    def episode_returns(self):
        """Return and length of the episode that ended in the last step, per env (valid where it ended)."""
        return self._core.ep_return, self._core.ep_length


class LucidEnv(gymnasium.Env):
    """One lucid env as a gymnasium.Env (copies of its outputs, so check_env passes)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(self, name, *, render_mode=None, max_episode_steps=None, resize=None, **params):
        if render_mode not in (None, "rgb_array"):
            raise ArgumentError(f"{name}: render_mode {render_mode!r} is not None or 'rgb_array'")
        self._core = c = _Core(name, 1, lib.LC_AUTORESET_DISABLED, max_episode_steps, 1, params, resize)
        self.observation_space = c.obs_space
        self.action_space = c.act_space
        self.render_mode = render_mode
        self.env_name = c.name

    def reset(self, *, seed=None, options=None):
        if options:
            raise ArgumentError(f"{self.env_name}: lucid envs take no reset options, got {sorted(options)}")
        _check_seed(self.env_name, seed)
        super().reset(seed=seed)  # Gymnasium's np_random for this seed; the C env draws from its own copy
        self._core.reset(None if seed is None else int(seed))
        return self._core.obs[0].copy(), {}

    def step(self, action):
        c = self._core
        a = np.asarray(action)
        if a.shape != c.act_shape[1:]:
            raise ActionError(f"{self.env_name}: action has shape {a.shape}, expected {c.act_shape[1:]}")
        c.step(a.reshape(c.act_shape))
        info = {}
        if c.info is not None:
            info = {name: float(c.info[0, k]) for k, name in enumerate(c.info_names)}
        return c.obs[0].copy(), float(c.rewards[0]), bool(c.terminated[0]), bool(c.truncated[0]), info

    def render(self):
        if self.render_mode is None:
            gymnasium.logger.warn("render() without render_mode: make the env with render_mode='rgb_array'")
            return None
        return self._core.render(0)

    def close(self):
        self._core.close()


def make_vec(name, num_envs=1, **kwargs):
    """A gymnasium.vector.VectorEnv of num_envs copies of lucid env `name` (any registered name,
    dream:FILE included). Keywords: autoreset_mode (gymnasium.vector.AutoresetMode or its name;
    NEXT_STEP by default), render_mode ("rgb_array"), max_episode_steps, num_threads, resize
    ((height, width): uint8 frames area-averaged to that size, core/resize.h's rule, as
    lc_env_opts.resize_h/_w); the others are the env's params (CartPole-v1: sutton_barto_reward=1)."""
    return LucidVectorEnv(name, num_envs, **kwargs)


def make(name, **kwargs):
    """One lucid env as a gymnasium.Env. Keywords: render_mode, max_episode_steps, resize, env params."""
    return LucidEnv(name, **kwargs)
