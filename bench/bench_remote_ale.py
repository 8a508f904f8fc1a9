"""bench/bench_remote_ale.py: ALE Breakout (ale-py, frameskip 4, 210x160x3 frames) at 8 envs,
stepped directly from Python (the reference) and through lucid's remote: env, i.e. served by
lucid.serve_gym in another process and stepped from C with lucid.make_vec, in the same run:
env steps per second, median over repeats with min and max, and the overhead of remote:.
Leaves out: frame resizing (the frames cross the socket at full size), other games."""
import multiprocessing as mp
import socket
import statistics
import sys
import time

import numpy as np

N = 8
REPEATS = 5
STEPS = 60  # vector steps per repeat


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def make_ale():
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    return gym.make("ALE/Breakout-v5")


def serve(port, stop):
    import lucid

    lucid.serve_gym(make_ale, bind=f"tcp://127.0.0.1:{port}", num_envs=N, stop=stop)


def direct_rates(acts):
    envs = [make_ale() for _ in range(N)]
    for i, e in enumerate(envs):
        e.reset(seed=i)
    rates = []
    for r in range(REPEATS):
        t0 = time.perf_counter()
        for t in range(STEPS):
            for i, e in enumerate(envs):
                _, _, term, trunc, _ = e.step(int(acts[t % len(acts), i]))
                if term or trunc:
                    e.reset()
        rates.append(N * STEPS / (time.perf_counter() - t0))
    return rates


def remote_rates(acts, port):
    import lucid

    envs = lucid.make_vec(f"remote:tcp://127.0.0.1:{port}?timeout=60", N, autoreset_mode="SAME_STEP")
    envs.reset(seed=0)
    rates = []
    for r in range(REPEATS):
        t0 = time.perf_counter()
        for t in range(STEPS):
            envs.step(acts[t % len(acts)])
        rates.append(N * STEPS / (time.perf_counter() - t0))
    envs.close()
    return rates


def fmt(r):
    return f"{statistics.median(r):8.0f} [{min(r):.0f}-{max(r):.0f}]"


def main():
    try:
        make_ale().close()
    except Exception as e:
        print(f"bench_remote_ale: ale-py not available ({type(e).__name__}: {e}); not run")
        return 0
    acts = np.random.default_rng(1).integers(0, 4, size=(64, N), dtype=np.int32)
    port = free_port()
    stop = mp.Event()
    server = mp.Process(target=serve, args=(port, stop), daemon=True)
    server.start()
    try:
        d = direct_rates(acts)
        rm = remote_rates(acts, port)
    finally:
        stop.set()
        server.join(5)
        if server.is_alive():
            server.terminate()
    print(f"ALE Breakout-v5, {N} envs, env steps/s: median [min-max] of {REPEATS} x {STEPS} vector steps")
    print(f"  ale-py stepped directly (reference)   {fmt(d)}")
    print(f"  remote: via lucid.serve_gym           {fmt(rm)}")
    over = statistics.median(d) / statistics.median(rm) - 1
    print(f"  overhead of remote: {100 * over:.1f}% (target <= 25%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
