#!/usr/bin/env bash
# Times Qiskit Aer and qtwin, single-threaded, on the same OpenQASM 2.0 QFT files.
#
#   bench/qft/compare_aer.sh            # from anywhere; build qtwin first:
#                                       # cargo build --release
#
# Environment: SIZES (cp form, default "20 22 24"), DECOMPOSED_SIZES (rz/cx form,
# default "20 22"), AER_VENV (default /tmp/aer-venv, created outside the repository
# with qiskit and qiskit-aer==0.18.*), QTWIN_BIN (default target/release/qtwin),
# REPEATS (best of, default 1).
#
# Aer: AerSimulator(method="statevector", precision="double", fusion_enable=True,
# max_parallel_threads=1), timed from QuantumCircuit.from_qasm_file to result() inside
# Python (interpreter start-up and `import qiskit` excluded). qtwin: the whole process
# `RAYON_NUM_THREADS=1 qtwin qasm FILE --shots 1`, parsing included.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${AER_VENV:-/tmp/aer-venv}"
qtwin="${QTWIN_BIN:-$root/target/release/qtwin}"
sizes="${SIZES:-20 22 24}"
dsizes="${DECOMPOSED_SIZES:-20 22}"
repeats="${REPEATS:-1}"
work="$(mktemp -d /tmp/qft-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet qiskit "qiskit-aer==0.18.*"
fi

files=()
for n in $sizes; do
    python3 "$here/make_qft.py" "$n" -o "$work/qft_$n.qasm"
    files+=("$work/qft_$n.qasm")
done
for n in $dsizes; do
    python3 "$here/make_qft.py" "$n" --decompose -o "$work/qft_${n}_rzcx.qasm"
    files+=("$work/qft_${n}_rzcx.qasm")
done

cat > "$work/aer_time.py" <<'PY'
import sys, time
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator, __version__ as aer_version

repeats = int(sys.argv[1])
sim = AerSimulator(method="statevector", precision="double", fusion_enable=True,
                   max_parallel_threads=1)
print(f"# qiskit-aer {aer_version}", file=sys.stderr)
for path in sys.argv[2:]:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        circ = QuantumCircuit.from_qasm_file(path)  # legacy qelib1 gates (cp, p, u)
        result = sim.run(circ, shots=1, seed_simulator=1).result()
        best = min(best, time.perf_counter() - t0)
        assert result.success, result.status
    print(f"{path}\t{best:.3f}")
PY

declare -A aer
if [ -x "$venv/bin/python" ]; then
    while IFS=$'\t' read -r f t; do aer["$f"]="$t"; done < <(
        OMP_NUM_THREADS=1 "$venv/bin/python" "$work/aer_time.py" "$repeats" "${files[@]}")
fi

if [ ! -x "$qtwin" ]; then
    echo "note: $qtwin not found (cargo build --release); timing Aer only" >&2
fi

printf "%-22s %10s %10s\n" "circuit" "aer [s]" "qtwin [s]"
for f in "${files[@]}"; do
    q="-"
    if [ -x "$qtwin" ]; then
        best=""
        for _ in $(seq "$repeats"); do
            s=$(date +%s%N)
            RAYON_NUM_THREADS=1 "$qtwin" qasm "$f" --shots 1 > /dev/null
            e=$(date +%s%N)
            ms=$(( (e - s) / 1000000 ))
            if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
        done
        q=$(awk -v ms="$best" 'BEGIN { printf "%.3f", ms / 1000 }')
    fi
    printf "%-22s %10s %10s\n" "$(basename "$f" .qasm)" "${aer[$f]:--}" "$q"
done
