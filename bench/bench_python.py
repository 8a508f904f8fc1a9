"""bench/bench_python.py: CartPole-v1 env steps per second from a Python loop at num_envs 1024:
lucid.make_vec (lucid's C envs, arrays over its buffers), beside Gymnasium 1.x's SyncVectorEnv
(the reference), Gymnasium's own numpy-vectorized CartPole (vector_entry_point) and EnvPool
(if installed), measured in the same run: median over repeats with min and max. Actions come
from a preallocated array; every vector autoresets in its default (next-step) mode.
Leaves out: policies in the loop (bench_ppo.c), other envs (bench_env.c)."""
import statistics
import sys
import time

import gymnasium as gym
import numpy as np

import lucid

N = 1024
REPEATS = 7
BUDGET_S = 0.3  # timed seconds per repeat, about


def measure(name, make, seeded_reset=True):
    try:
        env = make()
    except Exception as e:  # an optional reference that cannot run here is reported, not fatal
        print(f"{name:<44} not run: {type(e).__name__}: {e}")
        return None
    acts = np.random.default_rng(1).integers(0, 2, size=(16, N), dtype=np.int32)
    acts = list(acts)
    if seeded_reset:
        env.reset(seed=0)
    else:  # EnvPool takes its seed at make
        env.reset()
    for k in range(3):
        env.step(acts[k])
    t0 = time.perf_counter()  # steps per repeat: what fits the budget
    steps = 0
    while time.perf_counter() - t0 < BUDGET_S / 4:
        env.step(acts[steps % 16])
        steps += 1
    steps = max(1, steps * 4)
    rates = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        for k in range(steps):
            env.step(acts[k % 16])
        rates.append(N * steps / (time.perf_counter() - t0))
    env.close()
    med = statistics.median(rates)
    print(f"{name:<44} {med:>12,.0f} steps/s  (min {min(rates):,.0f}, max {max(rates):,.0f}; {steps} vector steps x {REPEATS})")
    return med


def envpool_make():
    import envpool  # PyPI envpool (make bench installs python/requirements-bench.txt)

    return envpool.make("CartPole-v1", env_type="gymnasium", num_envs=N, seed=0)


def main():
    print(f"CartPole-v1, num_envs {N}, Python loop (numpy {np.__version__}, gymnasium {gym.__version__})")
    ref = measure("gymnasium SyncVectorEnv (reference)",
                  lambda: gym.make_vec("CartPole-v1", N, vectorization_mode="sync"))
    results = {
        "gymnasium vector_entry_point (numpy)": measure(
            "gymnasium vector_entry_point (numpy)",
            lambda: gym.make_vec("CartPole-v1", N, vectorization_mode="vector_entry_point")),
        "envpool (sync, default threads)": measure("envpool (sync, default threads)", envpool_make, False),
        "lucid.make_vec (1 thread)": measure("lucid.make_vec (1 thread)",
                                             lambda: lucid.make_vec("CartPole-v1", N, num_threads=1)),
        "lucid.make_vec (automatic threads)": measure("lucid.make_vec (automatic threads)",
                                                      lambda: lucid.make_vec("CartPole-v1", N)),
    }
    if ref:
        for name, r in results.items():
            if r:
                print(f"  {name}: {r / ref:.1f}x the SyncVectorEnv reference")
    return 0 if ref and results["lucid.make_vec (1 thread)"] else 1


if __name__ == "__main__":
    sys.exit(main())
