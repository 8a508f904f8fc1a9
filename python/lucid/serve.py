"""lucid.serve_gym: Python Gymnasium envs served over lucid's env protocol (docs/PROTOCOL.md),
so that lucid steps them from C as `remote:ENDPOINT` envs (lucid collect/train, make_vec).

    import gymnasium, lucid
    lucid.serve_gym(lambda: gymnasium.make("CartPole-v1"), bind="tcp://127.0.0.1:5557", num_envs=8)

Pure Python over pyzmq and msgpack (it needs no part of the C library). Each client
(ZeroMQ identity) gets its own num_envs copies made by env_fn; autoreset happens in the
same step (final_obs, ep_return, ep_length), env i of a reset with seed s is reset with
seed s + i (as Gymnasium's vector envs); envs made with render_mode="rgb_array" render.
Leaves out: CURVE, async stepping.
"""
import ipaddress
import sys
import threading
import time

import gymnasium
import msgpack
import numpy as np
import zmq

PROTO_VERSION = 1
MAX_FRAME = 64 << 20
MAX_ENVS = 4096
# lc_status codes (core/error.h)
ERR_ARG, ERR_TYPE, ERR_SHAPE, ERR_SIZE, ERR_ACTION, ERR_PROTO, ERR_STATE, ERR_UNSUPPORTED = 1, 9, 10, 11, 13, 16, 17, 18
ERR_VERSION = 5

_DTYPES = {"f32": np.float32, "f64": np.float64, "u8": np.uint8, "i32": np.int32, "i64": np.int64}


class _Refused(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code


def _is_local(endpoint):
    """As lc_endpoint_is_local: loopback tcp, ipc and inproc."""
    if endpoint.startswith(("ipc://", "inproc://")):
        return True
    if not endpoint.startswith("tcp://"):
        return False
    host = endpoint[len("tcp://"):].rsplit(":", 1)[0]
    if host in ("localhost", "lo", "[::1]"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_WIRE_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


def _tensor(a):
    """A tensor map; its data is a view of a (msgpack copies it once, into the message)."""
    a = np.ascontiguousarray(a)
    name = _WIRE_NAMES[a.dtype]
    if a.dtype.byteorder == ">" or (a.dtype.byteorder == "=" and sys.byteorder == "big"):
        a = a.astype(a.dtype.newbyteorder("<"))
    return {"dtype": name, "shape": list(a.shape), "data": memoryview(a).cast("B") if a.size else b""}


def _space(s):
    """A gymnasium space as the protocol's space map (docs/PROTOCOL.md)."""
    if isinstance(s, gymnasium.spaces.Discrete):
        if int(s.start) != 0:
            raise _Refused(ERR_UNSUPPORTED, "Discrete spaces must start at 0 (got start=%d)" % s.start)
        return {"kind": "discrete", "dtype": "i32", "shape": [], "n": int(s.n)}
    if isinstance(s, gymnasium.spaces.MultiDiscrete):
        if s.nvec.ndim != 1 or len(s.nvec) > 16:
            raise _Refused(ERR_UNSUPPORTED, "MultiDiscrete spaces of 1 to 16 components only")
        return {"kind": "multi_discrete", "dtype": "i32", "shape": [len(s.nvec)], "nvec": [int(n) for n in s.nvec]}
    if isinstance(s, gymnasium.spaces.Box):
        if not 1 <= len(s.shape) <= 3:
            raise _Refused(ERR_UNSUPPORTED, "Box spaces of 1 to 3 dimensions only (got %s)" % (s.shape,))
        dt = "u8" if s.dtype == np.uint8 else "f32"
        low, high = s.low.astype(np.float64).ravel(), s.high.astype(np.float64).ravel()
        if (low == low[0]).all() and (high == high[0]).all():
            low, high = low[:1], high[:1]
        elif low.size > 16:  # lucid keeps per-element bounds up to 16 elements
            low, high = low.min(keepdims=True), high.max(keepdims=True)
        return {"kind": "box", "dtype": dt, "shape": list(s.shape), "low": low.tolist(), "high": high.tolist()}
    raise _Refused(ERR_UNSUPPORTED, "space %s is not Discrete, MultiDiscrete or Box" % (s,))


def _frame(rgb):
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or 0 in rgb.shape:
        raise _Refused(ERR_SHAPE, "render() gave %s %s, not an (H, W, 3) uint8 frame" % (rgb.dtype, rgb.shape))
    return rgb


def _render_size(env_fn, env):
    """(W, H) of the frames of envs made with render_mode="rgb_array" (one rendered by a
    separate copy, so the served envs' random streams are untouched), else None."""
    if getattr(env, "render_mode", None) != "rgb_array":
        return None
    probe = env_fn()
    try:
        probe.reset(seed=0)
        h, w, _ = _frame(probe.render()).shape
    finally:
        probe.close()
    return (w, h)


class _Client:
    """num_envs envs of one client, stepped in order with same-step autoreset."""

    def __init__(self, env_fn, num_envs, max_episode_steps):
        self.envs = []
        try:
            for _ in range(num_envs):
                env = env_fn()
                if max_episode_steps > 0:
                    env = gymnasium.wrappers.TimeLimit(env, max_episode_steps)
                self.envs.append(env)
        except Exception:
            self.close()
            raise
        e = self.envs[0]
        self.obs_space, self.act_space = e.observation_space, e.action_space
        self.obs_wire = _space(self.obs_space)
        self.act_wire = _space(self.act_space)
        self.obs_dtype = np.uint8 if self.obs_wire["dtype"] == "u8" else np.float32
        spec = getattr(e, "spec", None)
        self.name = spec.id if spec is not None and spec.id else type(e.unwrapped).__name__
        limit = getattr(spec, "max_episode_steps", None) if spec is not None else None
        self.limit = max_episode_steps if max_episode_steps > 0 else (limit or 0)
        self.render_wh = _render_size(env_fn, e)
        self.ret = np.zeros(num_envs, np.float64)
        self.len = np.zeros(num_envs, np.int32)
        self.was_reset = False
        # The step's arrays, reused: a message is packed (copied) before the next step.
        shape = (num_envs,) + tuple(self.obs_space.shape)
        self.obs = np.zeros(shape, self.obs_dtype)
        self.final = np.zeros(shape, self.obs_dtype)
        self.rew = np.zeros(num_envs, np.float32)
        self.term, self.trunc = np.zeros(num_envs, np.uint8), np.zeros(num_envs, np.uint8)
        self.ep_ret, self.ep_len = np.zeros(num_envs, np.float32), np.zeros(num_envs, np.int32)

    def env_msg(self):
        m = {"t": "env", "v": PROTO_VERSION, "name": self.name[:255], "num_envs": len(self.envs),
             "obs_space": self.obs_wire, "act_space": self.act_wire, "max_episode_steps": int(self.limit)}
        if self.render_wh:
            m.update(render_w=self.render_wh[0], render_h=self.render_wh[1])
        return m

    def render(self, index):
        if not self.render_wh:
            raise _Refused(ERR_UNSUPPORTED, "render: make env_fn's envs with render_mode='rgb_array'")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self.envs):
            raise _Refused(ERR_ARG, "render: index %r, the env has %d copies" % (index, len(self.envs)))
        if not self.was_reset:
            raise _Refused(ERR_STATE, "render before reset")
        rgb = _frame(self.envs[index].render())
        return {"t": "frame", "v": PROTO_VERSION, "index": index, "rgb": _tensor(rgb)}

    def _obs(self, o):
        return np.asarray(o, dtype=self.obs_dtype).reshape(self.obs_space.shape)

    def reset(self, seed):
        obs = [self._obs(e.reset(seed=None if seed is None else seed + i)[0]) for i, e in enumerate(self.envs)]
        self.ret[:] = 0
        self.len[:] = 0
        self.was_reset = True
        return {"t": "obs", "v": PROTO_VERSION, "obs": _tensor(np.stack(obs))}

    def actions(self, t):
        N = len(self.envs)
        if not isinstance(t, dict) or t.get("dtype") not in _DTYPES or not isinstance(t.get("data"), bytes):
            raise _Refused(ERR_TYPE, "actions must be a tensor {dtype, shape, data}")
        shape = t.get("shape")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise _Refused(ERR_TYPE, "actions: shape must be a list of ints")
        a = np.frombuffer(t["data"], np.dtype(_DTYPES[t["dtype"]]).newbyteorder("<")) if t["data"] else np.zeros(0)
        if a.size != int(np.prod(shape)):
            raise _Refused(ERR_SHAPE, "actions: %d elements for shape %s" % (a.size, shape))
        want = [N] if self.act_wire["kind"] == "discrete" else [N] + list(self.act_space.shape)
        if shape != want:
            raise _Refused(ERR_SHAPE, "actions: shape %s, expected %s" % (shape, want))
        a = a.reshape(want)
        if self.act_wire["kind"] == "box":
            if t["dtype"] != "f32":
                raise _Refused(ERR_TYPE, "Box actions are f32")
            if not np.isfinite(a).all():
                raise _Refused(ERR_ACTION, "actions are not finite")
            return a.astype(self.act_space.dtype)
        if t["dtype"] != "i32":
            raise _Refused(ERR_TYPE, "Discrete and MultiDiscrete actions are i32")
        hi = self.act_wire.get("n") if self.act_wire["kind"] == "discrete" else np.array(self.act_wire["nvec"])
        if (a < 0).any() or (a >= hi).any():
            raise _Refused(ERR_ACTION, "actions outside the action space")
        return a.astype(np.int64)

    def step(self, t):
        if not self.was_reset:
            raise _Refused(ERR_STATE, "step before reset")
        acts = self.actions(t)
        obs, final, rew = self.obs, self.final, self.rew
        term, trunc, ep_ret, ep_len = self.term, self.trunc, self.ep_ret, self.ep_len
        term[:], trunc[:], ep_ret[:], ep_len[:] = 0, 0, 0, 0
        for i, e in enumerate(self.envs):
            a = acts[i] if self.act_wire["kind"] != "discrete" else int(acts[i])
            o, r, te, tr, _ = e.step(a)
            rew[i] = r
            self.ret[i] += float(r)
            self.len[i] += 1
            term[i], trunc[i] = bool(te), bool(tr) and not bool(te)
            if te or tr:
                final[i] = self._obs(o)  # rows of envs that did not end are not read
                ep_ret[i], ep_len[i] = self.ret[i], self.len[i]
                self.ret[i], self.len[i] = 0, 0
                o, _ = e.reset()
            obs[i] = self._obs(o)
        m = {"t": "transition", "v": PROTO_VERSION, "obs": _tensor(obs), "rewards": _tensor(rew),
             "terminated": _tensor(term), "truncated": _tensor(trunc)}
        if (term | trunc).any():
            m.update(final_obs=_tensor(final), ep_return=_tensor(ep_ret), ep_length=_tensor(ep_len))
        return m

    def close(self):
        for e in self.envs:
            e.close()
        self.envs = []


def _error(code, msg):
    return {"t": "error", "v": PROTO_VERSION, "code": int(code), "msg": str(msg)[:511]}


def serve_gym(env_fn, bind="tcp://127.0.0.1:5557", num_envs=1, timeout=None, stop=None, ready=None,
              public=False, max_clients=64, max_num_envs=1024, log=None):
    """Serves env_fn's envs over lucid's env protocol until stop (a threading.Event) is set or
    timeout seconds have passed (None: forever); returns the number of requests served.

    env_fn: a callable making one gymnasium.Env, or a Gymnasium id ("CartPole-v1"). num_envs:
    envs per client when its "make" does not say. bind: a ZeroMQ endpoint; only loopback, ipc
    and inproc unless public=True; a port of "*" picks a free one. ready: a callable given the
    bound endpoint once the socket listens (or a threading.Event, then set). A client's "make"
    may ask for num_envs (up to max_num_envs) and max_episode_steps (> 0: a TimeLimit wrapper
    inside Gymnasium's own; 0 and -1 keep env_fn's limit); its "env" name is ignored (this
    server makes env_fn's envs). "render" works when env_fn makes envs with render_mode="rgb_array"
    (an extra copy renders once at "make" to learn the frame size). Every bad request gets an "error" reply, as `lucid serve`."""
    if isinstance(env_fn, str):
        env_id = env_fn
        env_fn = lambda: gymnasium.make(env_id)  # noqa: E731
    if not callable(env_fn):
        raise TypeError("env_fn must be a callable making a gymnasium.Env, or a Gymnasium id")
    if not public and not _is_local(bind):
        raise ValueError("%s is reachable from other machines: bind to 127.0.0.1 or pass public=True" % bind)
    if not 1 <= num_envs <= max_num_envs:
        raise ValueError("num_envs must be in 1..%d" % max_num_envs)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME)
    clients = {}
    served = 0
    try:
        sock.bind(bind)
        endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
        if ready is not None:
            ready.set() if isinstance(ready, threading.Event) else ready(endpoint)
        end = None if timeout is None else time.monotonic() + timeout
        while not (stop is not None and stop.is_set()) and (end is None or time.monotonic() < end):
            if not sock.poll(50):
                continue
            frames = sock.recv_multipart()
            served += 1
            ident, env = frames[0], frames[1:]
            delim = len(env) == 2 and env[0] == b""
            if delim:
                env = env[1:]
            if len(env) != 1:
                reply = _error(ERR_PROTO, "a message is one payload frame (got %d)" % len(env))
            else:
                reply = _answer(clients, ident, env[0], env_fn, num_envs, max_clients, max_num_envs, log)
            try:  # never block: a peer whose queue is full loses the reply (its timeout takes over)
                sock.send_multipart([ident] + ([b""] if delim else []) + [msgpack.packb(reply, use_bin_type=True)],
                                    flags=zmq.NOBLOCK)
            except zmq.Again:
                pass
    finally:
        for c in clients.values():
            c.close()
        sock.close(0)
        ctx.term()
    return served


def _answer(clients, ident, payload, env_fn, num_envs, max_clients, max_num_envs, log):
    try:
        try:
            m = msgpack.unpackb(payload, raw=False, strict_map_key=True)
        except Exception as e:
            raise _Refused(ERR_PROTO, "not one msgpack value: %s" % e)
        if not isinstance(m, dict):
            raise _Refused(ERR_TYPE, "a message is a map")
        if m.get("v") != PROTO_VERSION:
            raise _Refused(ERR_VERSION, "protocol version %r (this side speaks 1)" % (m.get("v"),))
        t = m.get("t")
        c = clients.get(ident)
        if t == "make":
            n = m.get("num_envs") if m.get("num_envs") is not None else num_envs
            steps = m.get("max_episode_steps") if m.get("max_episode_steps") is not None else 0
            if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= max_num_envs:
                raise _Refused(ERR_ARG, "num_envs must be an int in 1..%d" % max_num_envs)
            if not isinstance(steps, int) or isinstance(steps, bool) or not -1 <= steps <= 10**9:
                raise _Refused(ERR_ARG, "max_episode_steps must be an int in -1..10^9")
            if c is None and len(clients) >= max_clients:
                raise _Refused(ERR_SIZE, "the server holds %d clients already" % max_clients)
            if c is not None:
                c.close()
                del clients[ident]
            try:
                c = _Client(env_fn, n, steps)
            except _Refused:
                raise
            except Exception as e:
                raise _Refused(ERR_ARG, "env_fn failed: %s: %s" % (type(e).__name__, e))
            clients[ident] = c
            if log:
                log("client made %d x %s" % (n, c.name))
            return c.env_msg()
        if t == "heartbeat":
            return {"t": "heartbeat", "v": PROTO_VERSION}
        if t not in ("reset", "step", "spaces", "close", "render"):
            raise _Refused(ERR_PROTO, "unknown message type %r" % (t,))
        if c is None:
            raise _Refused(ERR_STATE, "no env yet: send 'make' first")
        if t == "spaces":
            return c.env_msg()
        if t == "close":
            c.close()
            del clients[ident]
            return {"t": "closed", "v": PROTO_VERSION}
        if t == "render":
            return c.render(m.get("index") if m.get("index") is not None else 0)
        if t == "reset":
            seed = m.get("seed")
            if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**64):
                raise _Refused(ERR_ARG, "seed must be a uint64")
            return c.reset(seed)
        if "actions" not in m:
            raise _Refused(ERR_PROTO, "step without actions")
        return c.step(m["actions"])
    except _Refused as e:
        return _error(e.code, e)
    except Exception as e:  # the env itself failed: the client hears it, the server goes on
        return _error(ERR_STATE, "the env raised %s: %s" % (type(e).__name__, e))
