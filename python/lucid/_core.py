"""lucid._core: the cffi library, lucid's errors as Python exceptions, spaces.

Leaves out: the env and policy classes (envs.py, policy.py).
"""
import numpy as np
from gymnasium import spaces

from ._lucid import ffi, lib

lib.lc_env_register_builtin()
lib.lc_worldmodel_register()  # dream:FILE
lib.lc_policy_register_envs()  # CartPoleNoVel-v1
lib.lc_remote_register()  # remote:ENDPOINT (above lc_init's layer: agents/remote.h)


class LucidError(Exception):
    """An error lucid's C library returned: .code is its lc_status, the message is lucid's."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class ArgumentError(LucidError, ValueError):
    """A bad argument (LC_ERR_ARG and the file errors)."""


class ActionError(LucidError, ValueError):
    """An invalid action (LC_ERR_ACTION, or a wrong shape or dtype)."""


class NotFoundError(LucidError, LookupError):
    """An unknown env name, a missing file or field (LC_ERR_NOTFOUND)."""


class StateError(LucidError, RuntimeError):
    """A call in the wrong state: a closed env, a step before reset (LC_ERR_STATE)."""


class UnsupportedError(LucidError, NotImplementedError):
    """A valid request this build or env cannot serve (LC_ERR_UNSUPPORTED)."""


_CLASSES = {
    lib.LC_ERR_ARG: ArgumentError,
    lib.LC_ERR_ACTION: ActionError,
    lib.LC_ERR_NOTFOUND: NotFoundError,
    lib.LC_ERR_STATE: StateError,
    lib.LC_ERR_UNSUPPORTED: UnsupportedError,
}


def new_error():
    return ffi.new("lc_error *")


def check(rc, err):
    """Raises the LucidError for a non-zero lc status, with the message in err."""
    if rc != lib.LC_OK:
        msg = ffi.string(err.msg).decode("utf-8", "replace") or ffi.string(lib.lc_status_str(rc)).decode()
        raise _CLASSES.get(rc, LucidError)(msg, rc)


def list_envs():
    """[(name, summary)] of every registered env name or "family:" prefix."""
    out = []
    for i in range(lib.lc_env_registry_count()):
        out.append((ffi.string(lib.lc_env_registry_name(i)).decode(),
                    ffi.string(lib.lc_env_registry_summary(i)).decode()))
    return out


def space_shape(s):
    if s.kind == lib.LC_SPACE_DISCRETE:
        return ()
    return tuple(s.shape[k] for k in range(s.ndim))


def space_dtype(s):
    if s.kind != lib.LC_SPACE_BOX:
        return np.dtype(np.int32)
    return np.dtype(np.uint8) if s.dtype == lib.LC_U8 else np.dtype(np.float32)


def to_gym_space(s):
    """The gymnasium.spaces equivalent of an lc_space."""
    if s.kind == lib.LC_SPACE_DISCRETE:
        return spaces.Discrete(s.n)
    if s.kind == lib.LC_SPACE_MULTI_DISCRETE:
        return spaces.MultiDiscrete(np.array([s.nvec[k] for k in range(s.shape[0])], dtype=np.int64))
    shape = space_shape(s)
    size = int(np.prod(shape))
    dtype = space_dtype(s)
    if s.per_dim:
        low = np.array(list(s.low)[:size], dtype=np.float32).reshape(shape)
        high = np.array(list(s.high)[:size], dtype=np.float32).reshape(shape)
    else:
        low = np.full(shape, s.low[0], dtype=np.float32)
        high = np.full(shape, s.high[0], dtype=np.float32)
    return spaces.Box(low.astype(dtype), high.astype(dtype), shape=shape, dtype=dtype)


def params_string(params):
    """lucid's "key=value,key=value" from keyword arguments (bools as 0/1)."""
    items = []
    for k, v in params.items():
        if isinstance(v, bool):
            v = int(v)
        v = str(v)
        if "," in v or "=" in k or "," in k:
            raise ArgumentError(f"param {k}={v}: keys and values cannot hold ',' or '='")
        items.append(f"{k}={v}")
    return ",".join(items)


def view(owner, ptr, count, dtype, shape):
    """A numpy array over count elements at ptr (no copy); keeps owner (the C object
    that holds the memory) alive for as long as the array lives."""
    dtype = np.dtype(dtype)
    if count == 0:
        return np.zeros(shape, dtype)
    # ffi.gc's destructor closure holds owner; the buffer holds this cdata; the array the buffer.
    keep = ffi.gc(ffi.cast("char *", ptr), lambda _p, _o=owner: None)
    return np.frombuffer(ffi.buffer(keep, count * dtype.itemsize), dtype=dtype).reshape(shape)
