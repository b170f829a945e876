#!/usr/bin/env python3
"""Write an OpenQASM 2.0 quantum Fourier transform on N qubits, as Qiskit writes it.

Usage: make_qft.py N [--decompose] [-o FILE]

The circuit is Qiskit's QFT(N) (``h`` and ``cp`` gates, then the qubit-reversal swaps)
followed by ``measure_all()`` (a barrier and one measurement per qubit into creg
``meas``), in the layout of ``qiskit.qasm2.dumps``. With ``--decompose`` every
``cp(l) a,b`` is written as ``rz(l/2) a; cx a,b; rz(-l/2) b; cx a,b; rz(l/2) b;``
(equal to cp up to a global phase e^{-il/4}). No dependencies beyond the standard library.
"""

import argparse
import sys


def angle(k: int) -> str:
    """pi / 2**k as Qiskit prints simple fractions of pi."""
    return "pi" if k == 0 else f"pi/{2 ** k}"


def qft_qasm(n: int, decompose: bool) -> str:
    lines = ['OPENQASM 2.0;', 'include "qelib1.inc";', f"qreg q[{n}];", f"creg meas[{n}];"]
    for j in reversed(range(n)):
        lines.append(f"h q[{j}];")
        for k in reversed(range(j)):
            e = j - k  # lambda = pi / 2**e
            if decompose:
                half, neg = angle(e + 1), "-" + angle(e + 1)
                lines += [
                    f"rz({half}) q[{j}];",
                    f"cx q[{j}],q[{k}];",
                    f"rz({neg}) q[{k}];",
                    f"cx q[{j}],q[{k}];",
                    f"rz({half}) q[{k}];",
                ]
            else:
                lines.append(f"cp({angle(e)}) q[{j}],q[{k}];")
    for k in range(n // 2):
        lines.append(f"swap q[{k}],q[{n - k - 1}];")
    lines.append("barrier " + ",".join(f"q[{i}]" for i in range(n)) + ";")
    lines += [f"measure q[{i}] -> meas[{i}];" for i in range(n)]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int, help="number of qubits")
    p.add_argument("--decompose", action="store_true", help="write cp as rz/cx")
    p.add_argument("-o", "--output", help="output file (default: stdout)")
    a = p.parse_args()
    if a.n < 1:
        p.error("N must be positive")
    text = qft_qasm(a.n, a.decompose)
    if a.output:
        with open(a.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
