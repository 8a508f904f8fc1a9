"""lucid_env.py: a Python client for `lucid serve` (lucid's env server).

Steps lucid envs from Python over ZeroMQ with msgpack messages (docs/PROTOCOL.md),
with a Gymnasium-like API. Needs only Debian's python3-zmq, python3-msgpack and
python3-numpy. Leaves out: gymnasium.Env subclassing (duck-typed), async stepping.

    env = LucidEnv("CartPole-v1", "tcp://127.0.0.1:5556", seed=0)
    obs, info = env.reset()
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

    venv = LucidVectorEnv("CartPole-v1", 8, "tcp://127.0.0.1:5556", seed=0)
    obs, info = venv.reset()                      # obs (8, 4)
    obs, rew, term, trunc, info = venv.step(np.zeros(8, np.int32))
"""

import msgpack
import numpy as np
import zmq

PROTO_VERSION = 1

_DTYPES = {"f32": np.float32, "f64": np.float64, "u8": np.uint8, "i32": np.int32, "i64": np.int64}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


class LucidError(RuntimeError):
    """An error message from the server: .code (lucid's status number), .name, .msg."""

    def __init__(self, code, name, msg):
        super().__init__("%s (%s): %s" % (name, code, msg))
        self.code, self.name, self.msg = code, name, msg


def _tensor(a):
    a = np.ascontiguousarray(a)
    return {"dtype": _NAMES[a.dtype], "shape": list(a.shape), "data": a.tobytes()}


def _array(t):
    dt = np.dtype(_DTYPES[t["dtype"]])
    shape = tuple(int(d) for d in t["shape"])
    a = np.frombuffer(t["data"], dtype=dt.newbyteorder("<"))
    if a.size != int(np.prod(shape, dtype=np.int64)):
        raise LucidError(0, "protocol", "tensor data does not match its shape")
    return a.reshape(shape).astype(dt, copy=True)


class Discrete:
    """Discrete(n): integers 0 .. n-1."""

    def __init__(self, n, seed=None):
        self.n, self.shape, self.dtype = int(n), (), np.dtype(np.int64)
        self._rng = np.random.default_rng(seed)

    def sample(self):
        return int(self._rng.integers(self.n))

    def contains(self, x):
        return np.isscalar(x) and float(x).is_integer() and 0 <= int(x) < self.n

    def __repr__(self):
        return "Discrete(%d)" % self.n


class MultiDiscrete:
    """MultiDiscrete(nvec): component i in 0 .. nvec[i]-1."""

    def __init__(self, nvec, seed=None):
        self.nvec = np.asarray(nvec, dtype=np.int64)
        self.shape, self.dtype = self.nvec.shape, np.dtype(np.int64)
        self._rng = np.random.default_rng(seed)

    def sample(self):
        return (self._rng.random(self.nvec.shape) * self.nvec).astype(np.int64)

    def contains(self, x):
        x = np.asarray(x)
        return x.shape == self.nvec.shape and bool(np.all((x >= 0) & (x < self.nvec)))

    def __repr__(self):
        return "MultiDiscrete(%s)" % self.nvec.tolist()


class Box:
    """Box(low, high, shape, dtype): float32 or uint8 arrays within bounds."""

    def __init__(self, low, high, shape, dtype, seed=None):
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.low = np.broadcast_to(np.asarray(low, np.float32), self.shape).astype(self.dtype)
        self.high = np.broadcast_to(np.asarray(high, np.float32), self.shape).astype(self.dtype)
        self._rng = np.random.default_rng(seed)

    def sample(self):
        lo = np.where(np.isfinite(self.low), self.low, -1.0).astype(np.float64)
        hi = np.where(np.isfinite(self.high), self.high, 1.0).astype(np.float64)
        if self.dtype == np.uint8:
            return self._rng.integers(lo, hi + 1, size=self.shape).astype(np.uint8)
        return self._rng.uniform(lo, hi, size=self.shape).astype(self.dtype)

    def contains(self, x):
        x = np.asarray(x)
        return x.shape == self.shape and bool(np.all((x >= self.low) & (x <= self.high)))

    def __repr__(self):
        lo, hi = self.low.min() if self.low.size else 0, self.high.max() if self.high.size else 0
        return "Box(%s, %s, %s, %s)" % (lo, hi, self.shape, self.dtype)


def _space(d):
    kind = d["kind"]
    if kind == "discrete":
        return Discrete(d["n"])
    if kind == "multi_discrete":
        return MultiDiscrete(d["nvec"])
    if kind == "box":
        return Box(d["low"], d["high"], d["shape"], _DTYPES[d["dtype"]])
    raise LucidError(0, "protocol", "unknown space kind %r" % kind)


class _Connection:
    """One DEALER socket to the server; every request waits for its reply."""

    def __init__(self, endpoint, timeout_ms, curve=None):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        if curve is not None:  # (server_public_z85, client_secret_z85)
            server_pub, secret = curve
            self.sock.curve_serverkey = server_pub.encode()
            self.sock.curve_secretkey = secret.encode()
            self.sock.curve_publickey = zmq.curve_public(secret.encode())
        self.sock.connect(endpoint)
        self.timeout_ms = timeout_ms

    def request(self, t, **fields):
        msg = {"t": t, "v": PROTO_VERSION}
        msg.update(fields)
        self.sock.send(msgpack.packb(msg, use_bin_type=True))
        if not self.sock.poll(self.timeout_ms, zmq.POLLIN):
            raise TimeoutError("no reply from the lucid server within %d ms" % self.timeout_ms)
        reply = msgpack.unpackb(self.sock.recv(), raw=False)
        if not isinstance(reply, dict) or reply.get("v") != PROTO_VERSION:
            raise LucidError(0, "protocol", "unexpected reply %r" % (reply,))
        if reply.get("t") == "error":
            raise LucidError(reply.get("code"), reply.get("name"), reply.get("msg"))
        return reply

    def close(self):
        if self.sock is not None:
            self.sock.close(0)
            self.ctx.term()
            self.sock = None


class LucidVectorEnv:
    """num_envs copies of a lucid env on the server, stepped together (autoreset in
    the same step, as lucid and Gymnasium 0.29's vector envs do)."""

    def __init__(self, env_name, num_envs, endpoint="tcp://127.0.0.1:5556", seed=None,
                 params="", max_episode_steps=0, timeout_ms=30000, curve=None):
        self._conn = _Connection(endpoint, timeout_ms, curve)
        try:
            r = self._conn.request("make", env=env_name, num_envs=int(num_envs),
                                   params=params, max_episode_steps=int(max_episode_steps))
        except Exception:
            self._conn.close()
            raise
        self._spec(r)
        self._seed = seed

    def _spec(self, r):
        self.env_name = r["name"]
        self.num_envs = r["num_envs"]
        self.single_observation_space = _space(r["obs_space"])
        self.single_action_space = _space(r["act_space"])
        self.observation_space = self.single_observation_space
        self.action_space = self.single_action_space
        self.max_episode_steps = r.get("max_episode_steps", 0)
        self.render_size = (r.get("render_h", 0), r.get("render_w", 0))

    def _actions(self, actions):
        sp = self.single_action_space
        dt = np.float32 if isinstance(sp, Box) else np.int32
        a = np.asarray(actions)
        if isinstance(sp, Box) and a.dtype.kind not in "fiu":
            raise TypeError("actions must be numbers")
        if not isinstance(sp, Box) and a.dtype.kind not in "iu":
            if a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.round(a)):
                pass
            else:
                raise TypeError("discrete actions must be integers")
        a = a.astype(dt)
        # (N, A) rows; the server checks N and A against the env
        return a.reshape(1, 1) if a.ndim == 0 else a.reshape(a.shape[0], -1)

    def reset(self, seed=None, options=None):
        """Resets every copy: (obs (N, ...), info {}). seed None: continue the streams
        (the first reset uses the seed given to the constructor, if any)."""
        del options  # no lucid env takes reset options
        if seed is None and self._seed is not None:
            seed, self._seed = self._seed, None
        r = self._conn.request("reset", seed=None if seed is None else int(seed))
        return _array(r["obs"]), {}

    def step(self, actions):
        """(obs, rewards, terminated, truncated, info). Where an episode ended, obs
        holds the next episode's first observation and info["final_observation"] the
        last one (valid where info["_final_observation"]), with info["episode"]
        {"r": returns, "l": lengths} under the same mask."""
        r = self._conn.request("step", actions=_tensor(self._actions(actions)))
        obs = _array(r["obs"])
        term = _array(r["terminated"]).astype(bool)
        trunc = _array(r["truncated"]).astype(bool)
        info = {}
        if "final_obs" in r:
            done = term | trunc
            info["final_observation"] = _array(r["final_obs"])
            info["_final_observation"] = done
            info["episode"] = {"r": _array(r["ep_return"]), "l": _array(r["ep_length"])}
            info["_episode"] = done
        return obs, _array(r["rewards"]), term, trunc, info

    def render(self, index=0):
        """An RGB frame (H, W, 3) uint8 of copy `index`."""
        return _array(self._conn.request("render", index=int(index))["rgb"])

    def spaces(self):
        """Asks the server again for the spaces (refreshes the attributes)."""
        self._spec(self._conn.request("spaces"))
        return self.single_observation_space, self.single_action_space

    def close(self):
        if self._conn.sock is not None:
            try:
                self._conn.request("close")
            except (LucidError, TimeoutError, zmq.ZMQError):
                pass
            self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        conn = getattr(self, "_conn", None)
        if conn is not None and conn.sock is not None:
            conn.close()


class LucidEnv:
    """One lucid env on the server with Gymnasium's single-env API: step returns the
    episode's last observation when it ends; the next reset() returns the first
    observation of the next episode (the server already reset it) unless a seed is
    given."""

    def __init__(self, env_name, endpoint="tcp://127.0.0.1:5556", seed=None, params="",
                 max_episode_steps=0, timeout_ms=30000, curve=None):
        self._v = LucidVectorEnv(env_name, 1, endpoint, seed, params, max_episode_steps,
                                 timeout_ms, curve)
        self.observation_space = self._v.single_observation_space
        self.action_space = self._v.single_action_space
        self.env_name = self._v.env_name
        self._next = None  # first obs of the episode that autoreset started

    def reset(self, seed=None, options=None):
        if seed is None and self._next is not None and self._v._seed is None:
            obs, self._next = self._next, None
            return obs, {}
        self._next = None
        obs, info = self._v.reset(seed=seed, options=options)
        return obs[0], info

    def step(self, action):
        a = np.asarray(action)
        obs, rew, term, trunc, info = self._v.step(a.reshape(1, *a.shape))
        out_info = {}
        if term[0] or trunc[0]:
            self._next = obs[0]
            out_info["episode"] = {"r": float(info["episode"]["r"][0]),
                                   "l": int(info["episode"]["l"][0])}
            obs = info["final_observation"]
        else:
            self._next = None
        return obs[0], float(rew[0]), bool(term[0]), bool(trunc[0]), out_info

    def render(self):
        return self._v.render(0)

    def close(self):
        self._v.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
