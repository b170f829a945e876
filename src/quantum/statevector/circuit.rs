//! The circuit model: gates (with their matrices), operations, [`Circuit`], and the
//! trajectories (instruction lists with deferred terminal measurements) that the simulator
//! and the noise model run.

use std::f64::consts::FRAC_1_SQRT_2;

use num_complex::Complex64;

use super::{ONE, ZERO};
use crate::math::{Det, cis};

/// A quantum gate with its parameters (angles in radians).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Gate {
    /// Identity (a physical no-op that still takes a single-qubit gate time under noise).
    Id,
    H,
    X,
    Y,
    Z,
    S,
    Sdg,
    T,
    Tdg,
    RX(f64),
    RY(f64),
    RZ(f64),
    /// Phase gate `diag(1, e^{iλ})` (Qiskit's `PhaseGate`, qelib1's `u1`).
    P(f64),
    /// Qiskit's `UGate(θ, φ, λ)` (= `U3Gate`).
    U(f64, f64, f64),
    /// Controlled X; qubits `[control, target]`.
    CX,
    CZ,
    /// Controlled phase `diag(1,1,1,e^{iλ})` (Qiskit's `CPhaseGate`, qelib1's `cu1`).
    CP(f64),
    Swap,
    /// `exp(−iθ Z⊗Z/2)`.
    RZZ(f64),
}

impl Gate {
    /// Number of qubits the gate acts on (1 or 2).
    pub fn num_qubits(self) -> usize {
        match self {
            Gate::CX | Gate::CZ | Gate::CP(_) | Gate::Swap | Gate::RZZ(_) => 2,
            _ => 1,
        }
    }

    /// Lower-case OpenQASM name of the gate.
    pub fn name(self) -> &'static str {
        match self {
            Gate::Id => "id",
            Gate::H => "h",
            Gate::X => "x",
            Gate::Y => "y",
            Gate::Z => "z",
            Gate::S => "s",
            Gate::Sdg => "sdg",
            Gate::T => "t",
            Gate::Tdg => "tdg",
            Gate::RX(_) => "rx",
            Gate::RY(_) => "ry",
            Gate::RZ(_) => "rz",
            Gate::P(_) => "p",
            Gate::U(..) => "u",
            Gate::CX => "cx",
            Gate::CZ => "cz",
            Gate::CP(_) => "cp",
            Gate::Swap => "swap",
            Gate::RZZ(_) => "rzz",
        }
    }

    /// Whether the gate matrix is diagonal in the computational basis.
    pub fn is_diagonal(self) -> bool {
        matches!(
            self,
            Gate::Id
                | Gate::Z
                | Gate::S
                | Gate::Sdg
                | Gate::T
                | Gate::Tdg
                | Gate::RZ(_)
                | Gate::P(_)
                | Gate::CZ
                | Gate::CP(_)
                | Gate::RZZ(_)
        )
    }

    /// The gate's unitary, row-major, `2^k × 2^k` for a `k`-qubit gate (see the module
    /// docs for the basis ordering).
    pub fn matrix(self) -> Vec<Complex64> {
        if self.num_qubits() == 1 {
            self.mat1().to_vec()
        } else {
            self.mat2().to_vec()
        }
    }

    pub(super) fn mat1(self) -> [Complex64; 4] {
        let c = Complex64::new;
        let diag = |a: Complex64, b: Complex64| [a, ZERO, ZERO, b];
        match self {
            Gate::Id => diag(ONE, ONE),
            Gate::H => {
                let s = FRAC_1_SQRT_2;
                [c(s, 0.0), c(s, 0.0), c(s, 0.0), c(-s, 0.0)]
            }
            Gate::X => [ZERO, ONE, ONE, ZERO],
            Gate::Y => [ZERO, c(0.0, -1.0), c(0.0, 1.0), ZERO],
            Gate::Z => diag(ONE, -ONE),
            Gate::S => diag(ONE, Complex64::I),
            Gate::Sdg => diag(ONE, -Complex64::I),
            Gate::T => diag(ONE, cis(std::f64::consts::FRAC_PI_4)),
            Gate::Tdg => diag(ONE, cis(-std::f64::consts::FRAC_PI_4)),
            Gate::RX(t) => {
                let (s, co) = (t / 2.0).sin_cos_d();
                [c(co, 0.0), c(0.0, -s), c(0.0, -s), c(co, 0.0)]
            }
            Gate::RY(t) => {
                let (s, co) = (t / 2.0).sin_cos_d();
                [c(co, 0.0), c(-s, 0.0), c(s, 0.0), c(co, 0.0)]
            }
            Gate::RZ(t) => diag(cis(-t / 2.0), cis(t / 2.0)),
            Gate::P(l) => diag(ONE, cis(l)),
            Gate::U(t, p, l) => {
                let (s, co) = (t / 2.0).sin_cos_d();
                [c(co, 0.0), -cis(l) * s, cis(p) * s, cis(p + l) * co]
            }
            Gate::CX | Gate::CZ | Gate::CP(_) | Gate::Swap | Gate::RZZ(_) => {
                panic!("{} is a two-qubit gate", self.name())
            }
        }
    }

    pub(super) fn mat2(self) -> [Complex64; 16] {
        let mut m = [ZERO; 16];
        let mut set_diag = |d: [Complex64; 4]| {
            for (k, v) in d.into_iter().enumerate() {
                m[5 * k] = v;
            }
        };
        match self {
            Gate::CX => {
                // index = control + 2·target: |c=1,t=0⟩ (1) ↔ |c=1,t=1⟩ (3).
                m[0] = ONE;
                m[4 + 3] = ONE;
                m[2 * 4 + 2] = ONE;
                m[3 * 4 + 1] = ONE;
            }
            Gate::CZ => set_diag([ONE, ONE, ONE, -ONE]),
            Gate::CP(l) => set_diag([ONE, ONE, ONE, cis(l)]),
            Gate::RZZ(t) => {
                let (a, b) = (cis(-t / 2.0), cis(t / 2.0));
                set_diag([a, b, b, a]);
            }
            Gate::Swap => {
                m[0] = ONE;
                m[4 + 2] = ONE;
                m[2 * 4 + 1] = ONE;
                m[15] = ONE;
            }
            _ => panic!("{} is a one-qubit gate", self.name()),
        }
        m
    }
}

/// One circuit instruction.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// A unitary gate on `qubits` (length [`Gate::num_qubits`]).
    Gate { gate: Gate, qubits: Vec<usize> },
    /// Projective Z-basis measurement of `qubit` into classical bit `clbit`.
    Measure { qubit: usize, clbit: usize },
    /// Reset of `qubit` to `|0⟩`.
    Reset { qubit: usize },
    /// Scheduling barrier across `qubits` (all qubits if empty); a no-op for the state.
    Barrier { qubits: Vec<usize> },
    /// Idle time on `qubit`, in seconds; an identity without noise, thermal relaxation with.
    Delay { qubit: usize, duration_s: f64 },
}

/// A quantum circuit: `num_qubits` qubits, `num_clbits` classical bits and a list of ops.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Circuit {
    pub num_qubits: usize,
    pub num_clbits: usize,
    pub ops: Vec<Op>,
}

impl Circuit {
    /// An empty circuit.
    pub fn new(num_qubits: usize, num_clbits: usize) -> Self {
        Self {
            num_qubits,
            num_clbits,
            ops: Vec::new(),
        }
    }

    /// Appends `op`.
    ///
    /// # Panics
    /// If a qubit or clbit index is out of range, a gate gets the wrong number of qubits,
    /// or a gate lists the same qubit twice.
    pub fn push(&mut self, op: Op) -> &mut Self {
        let nq = self.num_qubits;
        let check = |q: usize| assert!(q < nq, "qubit {q} out of range (circuit has {nq})");
        match &op {
            Op::Gate { gate, qubits } => {
                assert_eq!(
                    qubits.len(),
                    gate.num_qubits(),
                    "{} acts on {} qubit(s)",
                    gate.name(),
                    gate.num_qubits()
                );
                qubits.iter().copied().for_each(check);
                assert!(
                    qubits.len() < 2 || qubits[0] != qubits[1],
                    "{} on a repeated qubit",
                    gate.name()
                );
            }
            Op::Measure { qubit, clbit } => {
                check(*qubit);
                assert!(*clbit < self.num_clbits, "clbit {clbit} out of range");
            }
            Op::Reset { qubit } | Op::Delay { qubit, .. } => check(*qubit),
            Op::Barrier { qubits } => qubits.iter().copied().for_each(check),
        }
        self.ops.push(op);
        self
    }

    /// Appends a gate.
    pub fn gate(&mut self, gate: Gate, qubits: &[usize]) -> &mut Self {
        self.push(Op::Gate {
            gate,
            qubits: qubits.to_vec(),
        })
    }

    pub fn h(&mut self, q: usize) -> &mut Self {
        self.gate(Gate::H, &[q])
    }

    pub fn x(&mut self, q: usize) -> &mut Self {
        self.gate(Gate::X, &[q])
    }

    pub fn rx(&mut self, theta: f64, q: usize) -> &mut Self {
        self.gate(Gate::RX(theta), &[q])
    }

    pub fn rz(&mut self, theta: f64, q: usize) -> &mut Self {
        self.gate(Gate::RZ(theta), &[q])
    }

    pub fn cx(&mut self, control: usize, target: usize) -> &mut Self {
        self.gate(Gate::CX, &[control, target])
    }

    pub fn cp(&mut self, lambda: f64, a: usize, b: usize) -> &mut Self {
        self.gate(Gate::CP(lambda), &[a, b])
    }

    pub fn rzz(&mut self, theta: f64, a: usize, b: usize) -> &mut Self {
        self.gate(Gate::RZZ(theta), &[a, b])
    }

    pub fn swap(&mut self, a: usize, b: usize) -> &mut Self {
        self.gate(Gate::Swap, &[a, b])
    }

    pub fn measure(&mut self, qubit: usize, clbit: usize) -> &mut Self {
        self.push(Op::Measure { qubit, clbit })
    }

    pub fn reset(&mut self, qubit: usize) -> &mut Self {
        self.push(Op::Reset { qubit })
    }

    pub fn barrier(&mut self, qubits: &[usize]) -> &mut Self {
        self.push(Op::Barrier {
            qubits: qubits.to_vec(),
        })
    }

    pub fn delay(&mut self, qubit: usize, duration_s: f64) -> &mut Self {
        self.push(Op::Delay { qubit, duration_s })
    }

    /// Measures qubit `k` into clbit `k` for every qubit (growing `num_clbits` if needed).
    pub fn measure_all(&mut self) -> &mut Self {
        self.num_clbits = self.num_clbits.max(self.num_qubits);
        for q in 0..self.num_qubits {
            self.measure(q, q);
        }
        self
    }

    /// For every op, whether it is a *terminal* measurement: nothing but measurements,
    /// barriers and delays follow on its qubit, and no later mid-circuit measurement
    /// overwrites its clbit. Terminal measurements can be sampled from the final state.
    pub fn terminal_measurements(&self) -> Vec<bool> {
        let mut touched = vec![false; self.num_qubits];
        let mut terminal = vec![false; self.ops.len()];
        for (i, op) in self.ops.iter().enumerate().rev() {
            match op {
                Op::Gate { qubits, .. } => qubits.iter().for_each(|&q| touched[q] = true),
                Op::Reset { qubit } => touched[*qubit] = true,
                Op::Measure { qubit, .. } => terminal[i] = !touched[*qubit],
                Op::Barrier { .. } | Op::Delay { .. } => {}
            }
        }
        // A terminal measurement must not be overwritten by a later non-terminal one.
        loop {
            let mut changed = false;
            let mut overwritten = vec![false; self.num_clbits];
            for (i, op) in self.ops.iter().enumerate().rev() {
                if let Op::Measure { clbit, .. } = op {
                    if terminal[i] && overwritten[*clbit] {
                        terminal[i] = false;
                        changed = true;
                    }
                    if !terminal[i] {
                        overwritten[*clbit] = true;
                    }
                }
            }
            if !changed {
                return terminal;
            }
        }
    }

    /// Whether the final distribution can be sampled directly: no resets and only terminal
    /// measurements.
    pub fn is_sampleable_at_end(&self) -> bool {
        let terminal = self.terminal_measurements();
        self.ops.iter().enumerate().all(|(i, op)| match op {
            Op::Measure { .. } => terminal[i],
            Op::Reset { .. } => false,
            _ => true,
        })
    }
}

/// Instruction of a (possibly noisy) trajectory, produced from a [`Circuit`] by
/// [`noiseless_trajectory`] or by the noise model.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Inst {
    Gate(Gate, [usize; 2]),
    /// Projective measurement; the recorded bit is the outcome XOR `flip` (readout error).
    Measure {
        qubit: usize,
        clbit: usize,
        flip: bool,
    },
    Reset {
        qubit: usize,
    },
    /// Generalized amplitude damping towards the thermal state (excited population
    /// `p_exc`) with damping probability `gamma`, sampled as a quantum jump.
    AmpDamp {
        qubit: usize,
        gamma: f64,
        p_exc: f64,
    },
}

/// A trajectory: instructions, then terminal measurements `(qubit, clbit, flip)` that are
/// sampled together from the final state.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trajectory {
    pub insts: Vec<Inst>,
    pub terminal: Vec<(usize, usize, bool)>,
}

/// The noiseless trajectory of `circuit` (terminal measurements deferred).
pub(crate) fn noiseless_trajectory(circuit: &Circuit, terminal: &[bool]) -> Trajectory {
    let mut tr = Trajectory::default();
    for (i, op) in circuit.ops.iter().enumerate() {
        match op {
            Op::Gate { gate, qubits } => tr.insts.push(Inst::Gate(*gate, qubit_pair(qubits))),
            Op::Measure { qubit, clbit } if terminal[i] => {
                tr.terminal.push((*qubit, *clbit, false))
            }
            Op::Measure { qubit, clbit } => tr.insts.push(Inst::Measure {
                qubit: *qubit,
                clbit: *clbit,
                flip: false,
            }),
            Op::Reset { qubit } => tr.insts.push(Inst::Reset { qubit: *qubit }),
            Op::Barrier { .. } | Op::Delay { .. } => {}
        }
    }
    tr
}

pub(crate) fn qubit_pair(qubits: &[usize]) -> [usize; 2] {
    [qubits[0], qubits.get(1).copied().unwrap_or(usize::MAX)]
}
