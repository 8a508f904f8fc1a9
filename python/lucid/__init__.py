"""lucid in Python: lucid's envs as Gymnasium vector envs over lucid's own buffers.

    import lucid
    envs = lucid.make_vec("CartPole-v1", 1024)          # a gymnasium.vector.VectorEnv
    obs, info = envs.reset(seed=0)                       # env i seeded with 0 + i, as Gymnasium
    obs, rew, term, trunc, info = envs.step(envs.action_space.sample())
    env = lucid.make("Pendulum-v1")                      # a gymnasium.Env
    pi = lucid.Policy.load("runs/x/policy.lucid"); a = pi.act(obs, deterministic=True)
    lucid.serve_gym(lambda: gymnasium.make("CartPole-v1"), bind="tcp://127.0.0.1:5557")
    envs = lucid.make_vec("remote:tcp://127.0.0.1:5557", 8, autoreset_mode="SAME_STEP")  # elsewhere

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


def serve_gym(env_fn, bind="tcp://127.0.0.1:5557", num_envs=1, **kwargs):
    """Serves Gymnasium envs over lucid's env protocol (lucid/serve.py; needs pyzmq and msgpack),
    for lucid's remote:ENDPOINT envs. See lucid.serve.serve_gym for the keywords."""
    from .serve import serve_gym as _serve_gym

    return _serve_gym(env_fn, bind=bind, num_envs=num_envs, **kwargs)


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
    "serve_gym",
]
