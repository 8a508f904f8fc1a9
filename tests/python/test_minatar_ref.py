"""tests/python/test_minatar_ref.py: lucid's MinAtar envs against the reference, PyPI
minatar 1.0.15 (its Gymnasium env minatar.gym.BaseEnv), step for step: the same seeds
(env i of a lucid vector reset with seed s against a reference env reset with seed=s+i) and
actions must give the same observations, rewards and terminals, with lucid's same-step
autoreset (final_obs) against the reference's reset() after each episode. Per game >= 100k
steps: uniform random actions, persistent biased ones, a closed-loop player that reaches the
later phases (difficulty ramps, new waves of bricks and aliens), sticky actions on; and a run
with other params. lucid is stepped by BUILD/tests/drv_minatar (LUCID_BUILD names BUILD).
Leaves out: rendering (tests/test_minatar.c compares the palette with seaborn's)."""

import os
import subprocess
import sys
import time

import numpy as np
from minatar.gym import BaseEnv

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("LUCID_BUILD", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(ROOT, BUILD)
DRIVER = os.path.join(BUILD, "tests", "drv_minatar")

GAMES = {"asterix": "Asterix", "breakout": "Breakout", "freeway": "Freeway", "seaquest": "Seaquest",
         "space_invaders": "SpaceInvaders"}
CHANNELS = {"asterix": 4, "breakout": 4, "freeway": 7, "seaquest": 10, "space_invaders": 6}
N_L, N_U, N_R, N_D, N_F = 1, 2, 3, 4, 5  # the full action set: n l u r d f


class Mismatch(Exception):
    pass


# ---------------------------------------------------------------- players (full action set)

def uniform(rs, n):
    return lambda obs, t: int(rs.randint(n))


def persistent(rs, n, weights):
    p = np.asarray(weights[:n], float)
    p /= p.sum()
    state = {"a": 0}

    def act(obs, t):
        if rs.rand() < 0.15:
            state["a"] = int(rs.choice(n, p=p))
        return state["a"]
    return act


def col_of(obs, c, row=None):
    ys, xs = np.nonzero(obs[:, :, c] if row is None else obs[row:row + 1, :, c])
    return (int(xs[0]), int(ys[0])) if len(xs) else (None, None)


def toward(dx):
    return N_R if dx > 0 else N_L if dx < 0 else 0


def player(game, rs):
    """A simple closed-loop player that survives long enough to reach the later phases."""
    def breakout(obs, t):
        bx, by = col_of(obs, 1)
        tx, ty = col_of(obs, 2)
        px, _ = col_of(obs, 0)
        if bx is None:
            return 0
        dx = bx - tx or (1 if bx == 0 else -1 if bx == 9 else 1)
        dy = by - ty or (1 if by <= 4 else -1)
        d = {(-1, -1): 0, (1, -1): 1, (1, 1): 2, (-1, 1): 3}[(dx, dy)]
        bricks = obs[:, :, 3].copy()
        x, y = bx, by
        for _ in range(60):  # the ball's path under the game's rules, until it reaches the paddle's row
            nx, ny = x + (1 if d in (1, 2) else -1), y + (-1 if d < 2 else 1)
            if nx < 0 or nx > 9:
                nx, d = min(max(nx, 0), 9), [1, 0, 3, 2][d]
            if ny < 0:
                ny, d = 0, [3, 2, 1, 0][d]
            elif bricks[ny, nx]:
                bricks[ny, nx], ny, d = 0, y, [3, 2, 1, 0][d]
            elif ny == 9:
                target = x if abs(x - px) <= abs(nx - px) else nx
                return toward(target - px)
            x, y = nx, ny
        return toward(bx - px)

    def invaders(obs, t):
        # Hold column 4 and fire (the aliens sweep across it); with few left, aim ahead of the
        # lowest one; step aside from enemy bullets (early: a sticky action may repeat a move).
        px, _ = col_of(obs, 0)
        shots = obs[:, :, 5]
        deadly = shots[8] | obs[9, :, 1]
        moves = ((0, px), (N_L, max(px - 1, 0)), (N_R, min(px + 1, 9)))
        safe = {a: not deadly[x] and not shots[7, x] for a, x in moves}
        n = int(obs[:, :, 1].sum())
        target = 4
        if 0 < n <= 4:
            ys, xs = np.nonzero(obs[:, :, 1])
            k = int(np.argmax(ys))
            step = 1 if obs[:, :, 3].any() else -1
            target = int(np.clip(xs[k] + step * ((9 - ys[k]) // n), 0, 9))
        ready = not obs[5:9, :, 4].any()  # no own bullet fired in the last 4 steps
        want = N_F if ready and px == target else toward(target - px)
        for a in (want, 0, N_L, N_R):
            if safe.get(0 if a == N_F else a):
                return a
        for a, x in moves:
            if not deadly[x]:
                return a
        return want

    def asterix(obs, t):
        px, py = col_of(obs, 0)
        enemies = obs[:, :, 1]
        danger = enemies[py, max(0, px - 2):px + 3].any()
        if danger:
            for dy, a in ((-1, N_U), (1, N_D)):
                y = py + dy
                if 1 <= y <= 8 and not enemies[y, max(0, px - 2):px + 3].any():
                    return a
            return N_L if px > 4 else N_R
        gy, gx = np.nonzero(obs[:, :, 3])
        if len(gx):
            k = int(np.argmin(abs(gy - py) + abs(gx - px)))
            if gy[k] != py:
                return N_U if gy[k] < py else N_D
            return toward(int(gx[k]) - px)
        return 0

    def seaquest(obs, t):
        sx, sy = col_of(obs, 0)
        oxygen = int(obs[9, :, 7].sum())
        divers = int(obs[9, :, 8].sum())
        if oxygen <= 3 or divers >= 6 or (divers >= 1 and oxygen <= 6):
            return N_U if sy > 0 else 0
        threat = obs[:, :, 4] | obs[:, :, 5] | obs[:, :, 6]
        if threat[sy, max(0, sx - 2):sx + 3].any():
            if t % 3 == 0:
                return N_F
            return N_D if sy < 8 and not threat[sy + 1, max(0, sx - 1):sx + 2].any() else N_U
        dy, dx = np.nonzero(obs[:, :, 9])
        if len(dx):
            k = int(np.argmin(abs(dy - sy) + abs(dx - sx)))
            if dy[k] != sy:
                return N_D if dy[k] > sy else N_U
            return toward(int(dx[k]) - sx)
        if sy < 4:
            return N_D
        return N_F if t % 2 else toward(5 - sx)

    def freeway(obs, t):
        return N_U if rs.rand() < 0.9 else 0

    play = {"breakout": breakout, "space_invaders": invaders, "asterix": asterix, "seaquest": seaquest,
            "freeway": freeway}[game]

    def act(obs, t):
        return int(rs.randint(6)) if rs.rand() < 0.05 else play(obs, t)
    return act


BIAS = {"asterix": [1, 2, 2, 2, 2, 1], "breakout": [1, 3, 1, 3, 1, 1], "freeway": [1, 1, 6, 1, 1, 1],
        "seaquest": [1, 2, 2, 2, 2, 3], "space_invaders": [1, 3, 1, 3, 1, 4]}


# ---------------------------------------------------------------- the comparison

def run_driver(name, seed, K, actions, params):
    args = [DRIVER, name, str(seed), str(K)] + ([params] if params else [])
    data = np.int32(len(actions)).tobytes() + np.ascontiguousarray(actions, np.int32).tobytes()
    p = subprocess.run(args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise Mismatch("%s: drv_minatar failed (%d): %s" % (name, p.returncode, p.stderr.decode()))
    return p.stdout


def describe(a, b, C):
    a = np.unpackbits(a)[:100 * C].reshape(10, 10, C)
    b = np.unpackbits(b)[:100 * C].reshape(10, 10, C)
    cells = np.argwhere(a != b)[:6]
    return "cells (y, x, channel) lucid/reference: " + ", ".join(
        "(%d,%d,%d) %d/%d" % (y, x, c, a[y, x, c], b[y, x, c]) for y, x, c in cells)


def compare(game, mode, seed, K, T, make_player, minimal=False, sticky=0.1, ramping=True):
    """Runs K reference envs for T steps with the player, then lucid on the same actions."""
    C = CHANNELS[game]
    kw = dict(use_minimal_action_set=minimal, sticky_action_prob=sticky, difficulty_ramping=ramping)
    refs = [BaseEnv(game, **kw) for _ in range(K)]
    players = [make_player(np.random.RandomState(10_000 + 97 * seed + i), len(r.action_set))
               for i, r in enumerate(refs)]
    obs = [r.reset(seed=seed + i)[0] for i, r in enumerate(refs)]
    B = (100 * C + 7) // 8
    first = np.stack([np.packbits(o.astype(np.uint8).ravel()) for o in obs])
    actions = np.zeros((T, K), np.int32)
    fin = np.zeros((T, K, B), np.uint8)
    nxt = np.zeros((T, K, B), np.uint8)
    rew = np.zeros((T, K), np.float32)
    term = np.zeros((T, K), np.uint8)
    episodes, ramp, refills = 0, 0, 0  # refills: Breakout's new walls, Seaquest's full surfacings
    bricks = [30] * K  # Breakout: bricks left; Seaquest: divers on board
    for t in range(T):
        for i, r in enumerate(refs):
            a = players[i](obs[i], t)
            actions[t, i] = a
            o, rw, te, _, _ = r.step(a)
            ramp = max(ramp, getattr(r.game.env, "ramp_index", 0) or 0)
            if game == "breakout":  # Breakout does not ramp: its later phase is a new wall of bricks
                n = int(r.game.env.brick_map.sum())
                refills += n > bricks[i]
                bricks[i] = 30 if te else n
            if game == "seaquest":  # surfacing with 6 divers leaves the reference's diver count at -1
                n = r.game.env.diver_count
                refills += n < 0 <= bricks[i]
                bricks[i] = 0 if te else n
            fin[t, i] = np.packbits(o.astype(np.uint8).ravel())
            rew[t, i], term[t, i] = rw, te
            if te:
                o = r.reset()[0]
                episodes += 1
            nxt[t, i] = np.packbits(o.astype(np.uint8).ravel())
            obs[i] = o
    name = "MinAtar/%s-v%d" % (GAMES[game], 1 if minimal else 0)
    params = "sticky_action_prob=%r,difficulty_ramping=%d" % (sticky, int(ramping))
    out = np.frombuffer(run_driver(name, seed, K, actions, params), np.uint8)
    rec = np.dtype([("fin", np.uint8, B), ("nxt", np.uint8, B), ("rew", "<f4"), ("term", np.uint8)])
    if out.size != K * B + T * K * rec.itemsize:
        raise Mismatch("%s: drv_minatar wrote %d bytes, expected %d" % (name, out.size,
                       K * B + T * K * rec.itemsize))
    got0 = out[:K * B].reshape(K, B)
    got = out[K * B:].view(rec).reshape(T, K)
    where = "%s (%s, seed %d, envs %d)" % (name, mode, seed, K)
    for i in range(K):
        if not np.array_equal(got0[i], first[i]):
            raise Mismatch("%s env %d: the reset observation differs: %s" % (where, i,
                           describe(got0[i], first[i], C)))
    bad = ((got["fin"] != fin).any(axis=2) | (got["nxt"] != nxt).any(axis=2) | (got["rew"] != rew)
           | (got["term"] != term))
    if bad.any():
        t, i = map(int, np.argwhere(bad)[0])
        what = []
        if got["rew"][t, i] != rew[t, i]:
            what.append("reward lucid %g, reference %g" % (got["rew"][t, i], rew[t, i]))
        if got["term"][t, i] != term[t, i]:
            what.append("terminated lucid %d, reference %d" % (got["term"][t, i], term[t, i]))
        if (got["fin"][t, i] != fin[t, i]).any():
            what.append("observation: " + describe(got["fin"][t, i], fin[t, i], C))
        if (got["nxt"][t, i] != nxt[t, i]).any():
            what.append("first observation of the next episode: " + describe(got["nxt"][t, i], nxt[t, i], C))
        raise Mismatch("%s env %d, step %d (action %d): %s" % (where, i, t, actions[t, i], "; ".join(what)))
    return T * K, episodes, ramp, refills, float(rew.sum())


def main():
    if not os.access(DRIVER, os.X_OK):
        print("test_minatar_ref: %s is missing: run `make tests` first" % DRIVER)
        return 1
    scale = float(os.environ.get("LUCID_MINATAR_SCALE", "1"))
    total = 0
    start = time.time()
    for g, game in enumerate(GAMES):
        runs = [("uniform", 4, int(10_000 * scale), lambda rs, n: uniform(rs, n), {}),
                ("persistent", 4, int(7_500 * scale), lambda rs, n, game=game: persistent(rs, n, BIAS[game]), {}),
                ("player", 2, int(15_000 * scale), lambda rs, n, game=game: player(game, rs), {}),
                ("uniform, minimal set, sticky 0.25, no ramping", 3, int(2_000 * scale),
                 lambda rs, n: uniform(rs, n), dict(minimal=True, sticky=0.25, ramping=False))]
        steps = 0
        for k, (mode, K, T, make_player, kw) in enumerate(runs):
            n, eps, ramp, refills, ret = compare(game, mode, 1000 * g + 10 * k, K, T, make_player, **kw)
            steps += n
            later = ("walls of bricks rebuilt %d" % refills if game == "breakout" else
                     "max ramp_index %d, surfacings with 6 divers %d" % (ramp, refills) if game == "seaquest"
                     else "max ramp_index %d" % ramp)
            print("  %-14s %-46s %7d steps %5d episodes, return %7.0f, %s"
                  % (GAMES[game], mode, n, eps, ret, later))
        print("%s: %d steps compared, all identical" % (GAMES[game], steps))
        total += steps
    print("test_minatar_ref: %d steps compared in %.1f s, lucid and minatar 1.0.15 identical"
          % (total, time.time() - start))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Mismatch as e:
        print("test_minatar_ref: MISMATCH: %s" % e)
        sys.exit(1)
