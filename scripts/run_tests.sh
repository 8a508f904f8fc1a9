#!/bin/sh
# scripts/run_tests.sh BUILD PYTHON [SUITE...]: runs the Check suites in
# BUILD/tests and the Python tests in tests/python, then prints a closing
# "N passed, N failed" line and exits non-zero if anything failed.
BUILD="$1"; PY="$2"; shift 2
passed=0; failed=0; bad=""
export LUCID_BUILD="$BUILD" LUCID_PYTHON="$PY"
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    if [ $# -gt 0 ]; then
        case " $* " in *" ${name#test_} "*|*" $name "*) ;; *) continue ;; esac
    fi
    start=$(date +%s)
    out=$("$t" 2>&1); rc=$?
    end=$(date +%s)
    printf '%s\n' "$out" | grep -v '^Running suite' | grep -E ':(E|F):|Checks:|ERROR|AddressSanitizer|runtime error' | head -40
    line=$(printf '%s\n' "$out" | grep -E '[0-9]+%: Checks: [0-9]+' | tail -1)
    checks=$(echo "$line" | sed -n 's/.*Checks: \([0-9]*\).*/\1/p'); checks=${checks:-0}
    fails=$(echo "$line" | sed -n 's/.*Failures: \([0-9]*\).*/\1/p'); fails=${fails:-0}
    errs=$(echo "$line" | sed -n 's/.*Errors: \([0-9]*\).*/\1/p'); errs=${errs:-0}
    nf=$((fails + errs))
    if [ "$rc" -ne 0 ] && [ "$nf" -eq 0 ]; then nf=1; fi
    passed=$((passed + checks - fails - errs)); failed=$((failed + nf))
    [ "$nf" -gt 0 ] && bad="$bad $name"
    echo "$name: $((checks - fails - errs))/$checks passed ($((end - start)) s)"
done
for t in tests/python/test_*.py; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .py)
    if [ $# -gt 0 ]; then
        case " $* " in *" ${name#test_} "*|*" $name "*) ;; *) continue ;; esac
    fi
    if out=$("$PY" "$t" 2>&1); then
        passed=$((passed + 1)); echo "$name (python): passed"
    else
        failed=$((failed + 1)); bad="$bad $name"; printf '%s\n' "$out" | tail -20
        echo "$name (python): FAILED"
    fi
done
[ -n "$bad" ] && echo "failing:$bad"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
