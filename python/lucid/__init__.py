"""lucid in Python: lucid's envs as Gymnasium vector envs over lucid's own buffers.

    import lucid
    envs = lucid.make_vec("CartPole-v1", 1024)          # a gymnasium.vector.VectorEnv
    obs, info = envs.reset(seed=0)                       # env i seeded with 0 + i, as Gymnasium
    obs, rew, term, trunc, info = envs.step(envs.action_space.sample())
    env = lucid.make("Pendulum-v1")                      # a gymnasium.Env
    pi = lucid.Policy.load("runs/x/policy.lucid"); a = pi.act(obs, deterministic=True)

Everything runs in C (python/lucid/_cdef.h lists the calls); errors come back as
lucid.LucidError subclasses carrying lucid's message; lucid.Dataset reads and writes
trajectory datasets. Leaves out: async stepping, training from Python.
"""
from ._core import (
    ActionError,
    ArgumentError,
    LucidError,
    NotFoundError,
    StateError,
    UnsupportedError,
    list_envs,
)
from .dataset import Dataset
from .envs import LucidEnv, LucidVectorEnv, make, make_vec
from .policy import Policy

__all__ = [
    "ActionError",
    "ArgumentError",
    "Dataset",
    "LucidEnv",
    "LucidError",
    "LucidVectorEnv",
    "NotFoundError",
    "Policy",
    "StateError",
    "UnsupportedError",
    "list_envs",
    "make",
    "make_vec",
]
