"""examples/python/ale_footage.py: ALE games (ale-py; ROMs ship with it) for lucid's worlds
from footage (issue 20), three jobs:
  serve GAME     serves gymnasium.make("ALE/Pong-v5" or "ALE/Breakout-v5") with lucid.serve_gym
                 (v5 defaults: frameskip 4, sticky actions with probability 0.25, the minimal
                 action set) for `lucid collect --frames-only --env remote:... --resize 64x64`.
                 --mode mix: even episodes take the client's (random) actions, odd ones a scripted
                 tracker (paddle follows the ball, 20% random actions) that reaches the game's
                 events (points won, bricks); the action applied at each step is logged (--log),
                 since the client's actions are not the true ones in tracker episodes.
                 --mode play: the client's actions only (evaluation through remote:). At most
                 --max-envs (16) envs per client.
  classes GAME   effect classes: from states of random play, ale.cloneState()/restoreState(), every
                 action stepped from the same state (sticky actions off, so a step is the action's
                 own effect), the next two frames compared (the action, then NOOP). Two actions are
                 one class when they give the same frames in at least --merge (0.99) of the
                 sampled states (no-op duplicates such as Pong's FIRE ~ NOOP merge that way: FIRE
                 serves the ball a little earlier in about 1 state of 200; states where actions
                 only coincide, such as the paddle at the wall, are far fewer than 99%). Writes
                 JSON with the pairwise rates, so the rule can be judged.
  actions FILE   rewrites a frames recording's true-actions file (kind "frame_actions"): the
                 actions applied by the server (--log) instead of the client's, each mapped to the
                 smallest action of its effect class (--classes): the "effective actions" that
                 eval-genie's consistency is scored against.
Leaves out: other ALE games (the trackers know Pong's and Breakout's colours)."""
import argparse
import importlib.util
import json
import os
import struct
import sys
import zlib

import gymnasium as gym
import msgpack
import numpy as np

IDS = {"pong": "ALE/Pong-v5", "breakout": "ALE/Breakout-v5"}


def make(game, **kw):
    import ale_py

    gym.register_envs(ale_py)
    return gym.make(IDS[game], **kw)


def serve_gym():
    """lucid.serve_gym; the package's serve.py alone when the cffi part is not built here."""
    try:
        from lucid.serve import serve_gym as f
        return f
    except ImportError:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", "python", "lucid", "serve.py")
        spec = importlib.util.spec_from_file_location("lucid_serve", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod.serve_gym


def track(game, obs, rng, eps=0.2):
    """The scripted tracker: the player's paddle moves toward the ball (Pong: the right paddle,
    RIGHT = up; Breakout: FIRE when no ball is in play)."""
    n = 6 if game == "pong" else 4
    if rng.random() < eps:
        return int(rng.integers(n))
    if game == "pong":
        ball = np.argwhere((obs[34:194, :, 0] == 236))
        pad = np.argwhere((obs[34:194, 140:144, 1] == 186))
        if len(pad) == 0:
            return 0
        py = pad[:, 0].mean()
        by = ball[:, 0].mean() if len(ball) else 80.0
        return 2 if py > by + 3 else 3 if py < by - 3 else 0
    pad = np.argwhere(obs[189:193, 8:152, 0] == 200)
    ball = np.argwhere(obs[93:188, 8:152, 0] == 200)
    if len(ball) == 0 or len(pad) == 0:
        return 1
    px, bx = pad[:, 1].mean(), ball[:, 1].mean()
    return 2 if px < bx - 4 else 3 if px > bx + 4 else 0


class Mixed(gym.Wrapper):
    """Even episodes: the client's actions; odd ones: the tracker's. Logs every applied action
    (-1 at a reset) to log, one line each."""

    def __init__(self, env, game, log, seed):
        super().__init__(env)
        self.game, self.log, self.episode, self.obs = game, log, -1, None
        self.rng = np.random.default_rng(seed)

    def reset(self, **kw):
        self.episode += 1
        self.obs, info = self.env.reset(**kw)
        if self.log:
            self.log.write("-1\n")
        return self.obs, info

    def step(self, a):
        if self.episode % 2 == 1:
            a = track(self.game, self.obs, self.rng)
        self.obs, r, te, tr, info = self.env.step(int(a))
        if self.log:
            self.log.write("%d\n" % int(a))
        return self.obs, r, te, tr, info


def cmd_serve(args):
    log = open(args.log, "w", buffering=1) if args.log else None
    count = [0]

    def env_fn():
        count[0] += 1
        env = make(args.game)
        return Mixed(env, args.game, log, args.seed + count[0]) if args.mode == "mix" else env

    def ready(ep):
        if args.ready:
            with open(args.ready + ".tmp", "w") as f:
                f.write(ep)
            os.replace(args.ready + ".tmp", args.ready)
        print("serving %s (%s) at %s" % (IDS[args.game], args.mode, ep), file=sys.stderr, flush=True)

    serve_gym()(env_fn, bind=args.bind, num_envs=1, ready=ready, timeout=args.timeout,
                max_num_envs=args.max_envs)


def cmd_classes(args):
    env = make(args.game, repeat_action_probability=0.0)
    ale = env.unwrapped.ale
    n = env.action_space.n
    names = env.unwrapped.get_action_meanings()
    rng = np.random.default_rng(args.seed)
    env.reset(seed=args.seed)
    same = np.zeros((n, n), np.int64)
    states = 0
    while states < args.states:
        for _ in range(int(rng.integers(1, 8))):  # random play between sampled states
            _, _, te, tr, _ = env.step(int(rng.integers(n)))
            if te or tr:
                env.reset()
        s = ale.cloneState()
        nxt = []
        for a in range(n):
            ale.restoreState(s)
            o1 = env.step(a)[0]
            o2 = env.step(0)[0]
            nxt.append(np.concatenate([o1.ravel(), o2.ravel()]))
        ale.restoreState(s)
        for a in range(n):
            for b in range(n):
                same[a, b] += np.array_equal(nxt[a], nxt[b])
        states += 1
    rep = list(range(n))  # each action joins the first smaller one it is the same as
    for a in range(n):
        for b in range(a):
            if same[a, b] >= args.merge * states and rep[a] == a:
                rep[a] = rep[b]
    classes = [[a for a in range(n) if rep[a] == r] for r in sorted(set(rep))]
    out = {"game": IDS[args.game], "states": states, "actions": names, "classes": classes,
           "class_names": ["/".join(names[a] for a in c) for c in classes], "representative": rep,
           "same_rate": (same / states).round(4).tolist(),
           "rule": "one class when the same frames follow in >= %g of the sampled states (sticky "
                   "actions off; the action's frame and the frame after a NOOP compared)" % args.merge}
    text = json.dumps(out)
    if args.out:
        open(args.out, "w").write(text + "\n")
    print(text)


def read_container(path):
    raw = open(path, "rb").read()
    if raw[:8] != b"\x89LUCID\r\n":
        sys.exit("%s: not a lucid file" % path)
    version, n = struct.unpack_from("<IQ", raw, 8)
    body = raw[20:20 + n]
    if zlib.crc32(body) != struct.unpack_from("<I", raw, 20 + n)[0] or len(raw) != 24 + n:
        sys.exit("%s: damaged (checksum or size)" % path)
    return version, msgpack.unpackb(body, raw=False)


def write_container(path, version, doc):
    body = msgpack.packb(doc, use_bin_type=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"\x89LUCID\r\n" + struct.pack("<IQ", version, len(body)) + body +
                struct.pack("<I", zlib.crc32(body)))
    os.replace(tmp, path)


def cmd_actions(args):
    version, doc = read_container(args.file)
    if doc.get("kind") != "frame_actions":
        sys.exit("%s: not a frame_actions file" % args.file)
    t = next(x for x in doc["tensors"] if x["name"] == "actions")
    old = np.frombuffer(t["data"], np.int32)
    new = old.copy()
    if args.log:
        logged = np.loadtxt(args.log, dtype=np.int64, ndmin=1)
        if len(logged) != len(old) or not np.array_equal(logged < 0, old < 0):
            sys.exit("%s: %d logged actions do not line up with the %d recorded (starts differ)"
                     % (args.log, len(logged), len(old)))
        new = logged.astype(np.int32)
    if args.classes:
        rep = np.array(json.load(open(args.classes))["representative"], np.int32)
        new = np.where(new >= 0, rep[np.maximum(new, 0)], -1).astype(np.int32)
    t["data"] = new.tobytes()
    write_container(args.out or args.file, version, doc)
    m = new >= 0
    print(json.dumps({"actions": int(m.sum()), "changed_by_log": int((new != old)[m].sum()) if not args.classes
                      else None, "counts": np.bincount(new[m]).tolist()}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("game", choices=sorted(IDS))
    s.add_argument("--bind", default="tcp://127.0.0.1:*")
    s.add_argument("--mode", choices=["mix", "play"], default="play")
    s.add_argument("--log", help="mix: file of the applied actions, one a line (-1 at resets)")
    s.add_argument("--ready", help="file to write the bound endpoint to once listening")
    s.add_argument("--timeout", type=float, default=None, help="stop after this many seconds")
    s.add_argument("--seed", type=int, default=0, help="seed of the tracker's random actions")
    s.add_argument("--max-envs", type=int, default=16,
                   help="most envs one client may ask for (an ALE env takes ~0.1-0.7 s to make: "
                        "eval-genie's 256/512-env locksteps are then refused and skipped)")
    c = sub.add_parser("classes")
    c.add_argument("game", choices=sorted(IDS))
    c.add_argument("--states", type=int, default=300)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--merge", type=float, default=0.99, help="share of states with the same frames to merge")
    c.add_argument("--out")
    a = sub.add_parser("actions")
    a.add_argument("file")
    a.add_argument("--log")
    a.add_argument("--classes")
    a.add_argument("--out")
    args = p.parse_args()
    {"serve": cmd_serve, "classes": cmd_classes, "actions": cmd_actions}[args.cmd](args)


if __name__ == "__main__":
    main()
