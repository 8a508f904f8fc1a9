"""tests/python/test_ale_footage.py: examples/python/ale_footage.py's parts that do not need
ale-py: the true-actions file of a frames recording rewritten to the server's applied actions
mapped to effect classes (read back exactly; lucid still reads the file), and a log that does
not line up with the recording refused with the file left as it was. With ale-py installed
(build/venv-bench), Pong's effect classes from 40 sampled states: NOOP/FIRE, RIGHT/RIGHTFIRE,
LEFT/LEFTFIRE. Leaves out: serving ALE (examples/footage_flow.sh runs it end to end)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from test_resize_flag import LUCID, ROOT, tensors

TOOL = os.path.join(ROOT, "examples", "python", "ale_footage.py")


def tool(*args):
    return subprocess.run([sys.executable, TOOL] + list(args), capture_output=True, text=True)


def test_actions_rewritten_by_log_and_classes(tmp_path):
    out = str(tmp_path / "f.lucid")
    r = subprocess.run([LUCID, "collect", "--frames-only", "--env", "Breakout-v0", "--steps", "300",
                        "--seed", "2", "--out", out, "--quiet"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    apath = str(tmp_path / "f.actions.lucid")
    before = open(apath, "rb").read()
    old = tensors(apath)["actions"]
    assert (old < 0).sum() >= 1
    rng = np.random.default_rng(0)
    log = np.where(old < 0, -1, rng.integers(0, 4, len(old)))
    (tmp_path / "bad.txt").write_text("\n".join(map(str, log[1:])) + "\n")  # one short
    r = tool("actions", apath, "--log", str(tmp_path / "bad.txt"))
    assert r.returncode != 0 and "line up" in r.stderr
    assert open(apath, "rb").read() == before
    (tmp_path / "log.txt").write_text("\n".join(map(str, log)) + "\n")
    (tmp_path / "classes.json").write_text(json.dumps({"representative": [0, 0, 2, 2]}))
    r = tool("actions", apath, "--log", str(tmp_path / "log.txt"), "--classes", str(tmp_path / "classes.json"))
    assert r.returncode == 0, r.stderr
    got = tensors(apath)["actions"]
    assert np.array_equal(got, np.where(log < 0, -1, np.array([0, 0, 2, 2])[np.maximum(log, 0)]))
    assert subprocess.run([LUCID, "info", apath], capture_output=True).returncode == 0


def test_pong_effect_classes(tmp_path):
    pytest.importorskip("ale_py")
    r = tool("classes", "pong", "--states", "40", "--out", str(tmp_path / "c.json"))
    assert r.returncode == 0, r.stderr
    c = json.load(open(tmp_path / "c.json"))
    assert c["classes"] == [[0, 1], [2, 4], [3, 5]], c
