#!/bin/sh
# examples/genie_bc.sh: Genie's behaviour-cloning study on a pixel game: an expert (PPO on
# the real game) is recorded as frames without actions; a genie model's LAM labels them
# with latent actions; a CNN policy clones those; the latent -> real map from N labelled
# transitions makes it act in the real game; beside it an oracle cloned from the true
# actions, the expert, random play, the return for N in {10, 50, 200, 1000}, and PPO
# fine-tuning from the clone beside PPO from scratch for the same steps. Ends with one
# JSON line and draws WORKDIR/label_curve.png. With DREAM=1, also PPO in the dream from the
# latent clone and from scratch, measured in the real game through the map (eval-genie).
# Leaves out: Breakout-v0 and CoinRun-v0 (their LAMs do not find the actions yet:
# docs/GENIE.md).
# The expert and the genie model already in WORKDIR are reused (delete them to start over).
# Usage:
#   [GAME=Catch-v0] [SEED=1] [DREAM=0|1] [EXPERT_STEPS=60000] [FT_STEPS=16384] [BC_STEPS=1500] \
#       sh examples/genie_bc.sh [WORKDIR]
set -e
LUCID=${LUCID:-./build/lucid}
GAME=${GAME:-Catch-v0}
SEED=${SEED:-1}
EXPERT_STEPS=${EXPERT_STEPS:-60000}
FT_STEPS=${FT_STEPS:-16384}
BC_STEPS=${BC_STEPS:-1500}
EPISODES=${EPISODES:-100}
DIR=${1:-/tmp/lucid_genie_bc}
T0=$(date +%s)
mkdir -p "$DIR"
ret() { # the mean return of `lucid eval --json` in file $1
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["mean"])' "$1"
}
evalp() { # policy $1 -> $2.json: EPISODES real episodes, argmax actions
    $LUCID eval --policy "$1" --episodes "$EPISODES" --seed $((SEED + 100)) --json > "$2.json"
}
echo "== 1. the expert: PPO (cnn) on $GAME for $EXPERT_STEPS steps"
[ -f "$DIR/expert.lucid" ] ||
    $LUCID train --env "$GAME" --arch cnn --steps "$EXPERT_STEPS" --seed "$SEED" --quiet \
        --eval-episodes 0 --out "$DIR/expert.lucid" > /dev/null
evalp "$DIR/expert.lucid" "$DIR/expert"
echo "   expert return $(ret "$DIR/expert.json")"
echo "== 2. a genie model from random play (frames only), as examples/genie_flow.sh"
$LUCID collect --frames-only --env "$GAME" --steps 20000 --num-envs 8 --seed "$SEED" \
    --out "$DIR/random.lucid" > "$DIR/random.log"
[ -f "$DIR/genie.lucid" ] ||
    $LUCID train-genie --data "$DIR/random.lucid" --out "$DIR/genie.lucid" --lam-steps 3000 \
        --dyn-steps 2000 --start-anywhere 0 --seed "$SEED" --quiet
echo "== 3. the expert's play as frames (its actions go to a separate file)"
$LUCID collect --frames-only --env "$GAME" --policy "$DIR/expert.lucid" --steps 10000 \
    --num-envs 8 --seed $((SEED + 1)) --out "$DIR/expert_frames.lucid" | tee "$DIR/expert_frames.log"
echo "== 4. latent BC: the LAM labels the expert's frames; 200 labels map latent to real"
$LUCID train-bc --model "$DIR/genie.lucid" --data "$DIR/expert_frames.lucid" \
    --out "$DIR/bc_200.lucid" --latent-out "$DIR/bc_latent.lucid" --labels 200 \
    --steps "$BC_STEPS" --seed "$SEED" --json > "$DIR/bc_200.bc.json"
cat "$DIR/bc_200.bc.json"
evalp "$DIR/bc_200.lucid" "$DIR/bc_200"
for N in 10 50 1000; do # the same latent policy, maps from N labels
    $LUCID train-bc --model "$DIR/genie.lucid" --data "$DIR/expert_frames.lucid" \
        --from-latent "$DIR/bc_latent.lucid" --out "$DIR/bc_$N.lucid" --labels $N \
        --seed "$SEED" --json > "$DIR/bc_$N.bc.json"
    evalp "$DIR/bc_$N.lucid" "$DIR/bc_$N"
done
echo "== 5. the oracle: the same policy cloned from the true actions"
$LUCID train-bc --oracle "$DIR/expert_frames.actions.lucid" --data "$DIR/expert_frames.lucid" \
    --out "$DIR/oracle.lucid" --steps "$BC_STEPS" --seed "$SEED" --json > "$DIR/oracle.bc.json"
evalp "$DIR/oracle.lucid" "$DIR/oracle"
echo "== 6. PPO for $FT_STEPS steps from the latent clone (200 labels) and from scratch"
$LUCID train --env "$GAME" --arch cnn --steps "$FT_STEPS" --seed "$SEED" --quiet \
    --eval-episodes 0 --init "$DIR/bc_200.lucid" --metrics "$DIR/finetune.csv" \
    --out "$DIR/finetuned.lucid" > /dev/null
evalp "$DIR/finetuned.lucid" "$DIR/finetuned"
$LUCID train --env "$GAME" --arch cnn --steps "$FT_STEPS" --seed "$SEED" --quiet \
    --eval-episodes 0 --metrics "$DIR/scratch.csv" --out "$DIR/scratch.lucid" > /dev/null
evalp "$DIR/scratch.lucid" "$DIR/scratch"
echo '{}' > "$DIR/dream_finetuned.json"; echo '{}' > "$DIR/dream_scratch.json"
if [ "${DREAM:-0}" = 1 ]; then
    echo "== 7. PPO in the dream for $FT_STEPS steps, from the latent clone and from scratch"
    for RUN in dream_finetuned dream_scratch; do
        INIT=""; [ $RUN = dream_finetuned ] && INIT="--init $DIR/bc_latent.lucid"
        $LUCID train --env "dream:$DIR/genie.lucid" --arch cnn --steps "$FT_STEPS" \
            --seed "$SEED" --quiet --eval-episodes 0 $INIT --metrics "$DIR/$RUN.csv" \
            --out "$DIR/$RUN.lucid" > /dev/null
        $LUCID eval-genie --model "$DIR/genie.lucid" --data "$DIR/random.lucid" \
            --actions "$DIR/random.actions.lucid" --policy "$DIR/$RUN.lucid" \
            --episodes "$EPISODES" --threads 1 --json > "$DIR/$RUN.json"
    done
fi
LUCID="$LUCID" python3 - "$DIR" "$GAME" "$SEED" "$FT_STEPS" "$(( $(date +%s) - T0 ))" "$EPISODES" <<'EOF'
import csv, json, math, os, re, subprocess, sys
d, game, seed, ft, wall, episodes = sys.argv[1:7]
def ret(name):
    return round(json.load(open(f"{d}/{name}.json"))["mean"], 4)
def steps_to(path, target):
    # PPO steps at which the training return (mean of the episodes of 3 iterations) first
    # reaches target; None when it never does within the run
    rows = [r for r in csv.DictReader(open(path)) if r["episode_return"] not in ("", "nan")]
    for i in range(len(rows)):
        w = rows[max(0, i - 2):i + 1]
        if sum(float(r["episode_return"]) for r in w) / len(w) >= target:
            return int(float(rows[i]["steps"]))
    return None
m = re.search(r"mean return of those (-?[0-9.]+)", open(f"{d}/random.log").read())
bc = json.load(open(f"{d}/bc_200.bc.json"))
expert = ret("expert")
curve = {n: ret(f"bc_{n}") for n in (10, 50, 200, 1000)}
out = {"game": game, "seed": int(seed), "expert_return": expert,
       "latent_bc_return": curve[200], "oracle_bc_return": ret("oracle"),
       "random_return": float(m.group(1)) if m else None, "labels": 200,
       "label_curve": {str(n): v for n, v in curve.items()}}
for n, v in curve.items():
    out[f"latent_bc_return_{n}"] = v
out.update({"lam_label_accuracy": bc["label_accuracy"], "map_accuracy": bc["map_accuracy"],
            "folded_accuracy": bc["real_accuracy"], "fold_exact": bc["fold_exact"],
            "oracle_accuracy": json.load(open(f"{d}/oracle.bc.json"))["real_accuracy"],
            "ppo_steps": int(ft), "finetuned_return": ret("finetuned"),
            "scratch_return": ret("scratch"),
            "finetuned_steps_to_expert": steps_to(f"{d}/finetune.csv", 0.95 * expert),
            "scratch_steps_to_expert": steps_to(f"{d}/scratch.csv", 0.95 * expert),
            "episodes": int(episodes), "wall_s": int(wall)})
for name in ("dream_finetuned", "dream_scratch"): # DREAM=1: the real game via the map
    out[name + "_return"] = json.load(open(f"{d}/{name}.json")).get("policy_return")
# the label curve as a picture: latent BC over log10(labels), the oracle and random play
for name, ys in (("latent_bc", curve), ("oracle_bc", {10: out["oracle_bc_return"], 1000: out["oracle_bc_return"]}),
                 ("random", {10: out["random_return"], 1000: out["random_return"]})):
    with open(f"{d}/{name}.csv", "w") as f:
        f.write("labels,log10_labels,episode_return\n")
        for n, v in ys.items():
            f.write(f"{n},{math.log10(n):.4f},{v}\n")
subprocess.run([os.environ["LUCID"], "plot", f"{d}/latent_bc.csv", f"{d}/oracle_bc.csv",
                f"{d}/random.csv", "--x", "log10_labels", "--y", "episode_return", "--title",
                f"{game}: real return of latent BC vs log10(labels)", "--out",
                f"{d}/label_curve.png"], check=True, stdout=subprocess.DEVNULL)
print(json.dumps(out))
EOF
