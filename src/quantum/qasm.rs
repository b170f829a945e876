//! OpenQASM 2.0 front end: parses programs as Qiskit's `qasm2.dumps` writes them into a
//! [`Circuit`], and runs them for the command line.
//!
//! # Supported language
//!
//! `OPENQASM 2.0;`, `include "qelib1.inc";`, any number of `qreg`/`creg` declarations
//! (flattened in declaration order: the first register's qubit 0 is circuit qubit 0),
//! the gates `h x y z s sdg t tdg rx ry rz u1 p u3 u u2 cx cz cu1 cp swap rzz id` and the
//! primitives `U`, `CX`, `measure` (single bits or whole registers, `measure q -> c;`),
//! `reset`, `barrier`, user `gate` definitions built from those (with parameters, nested,
//! expanded at their call sites), parameter expressions with `pi`, numbers,
//! `+ - * / ^`, unary minus, parentheses and `sin cos tan exp ln sqrt`, and register
//! broadcasting (`h q;`, `cx q, r;`, `cx q[0], r;`). Comments `//` and `/* */` are
//! skipped. Everything else — `if`, `opaque`, other includes, unknown gates — is an error
//! with a 1-based line and column ([`QasmError`]).
//!
//! # Limits
//!
//! A program is hostile until checked: it must end in counts or a [`QasmError`] that names the
//! limit it hit, never in an abort, a stack overflow or memory exhaustion. [`QasmLimits`]
//! holds them; `qtwin qasm --max-memory` sets the first.
//!
//! | limit | default | checked |
//! | --- | --- | --- |
//! | memory of a run ([`memory_estimate_bytes`]) | 2 GiB | before any state is allocated |
//! | qubits in all `qreg`s | from the memory: 16 bytes × 2^n < limit, **26** for 2 GiB (1 GiB: 25) | at the `qreg` |
//! | the whole run's memory | state vector(s), 8 bytes a shot, counts, operations: an ideal circuit measured at the end has one vector (26 qubits: 1 GiB), one with noise or mid-circuit measurements two (so 25 qubits with noise under 2 GiB) | after parsing |
//! | classical bits in all `creg`s | 4096 | at the `creg` |
//! | expanded operations (+ statements in gate bodies) | 10,000,000 | before a call is expanded, from each gate's expanded size counted at its definition (a chain of gates each calling the previous twice is refused at the call, not after 2^k pushes) |
//! | expression depth (nesting and tree height) | 100 | while parsing (`((((…`, `----…1`, `1+1+…+1`) |
//! | gate definitions nested | 100 | at the definition |
//! | parameters of a gate / qubit arguments of a definition | 1024 / 64 | while parsing |
//! | shots | 100,000,000 | before the run |
//! | work: runs × (operations + 1) × 2^n amplitude updates, runs = shots with noise or mid-circuit measurement, else 1 | 2^40 ≈ 1.1e12 (minutes of one core) | before the run |
//! | program text | 64 MiB | before lexing; the lexer reads the text in place, one token at a time |
//!
//! # Global phase
//!
//! qelib1.inc defines `u1`, `u3`, `cu1`, … by decompositions that can differ from Qiskit's
//! gate classes by a global phase. This front end follows Qiskit's gate-class matrices,
//! i.e. what `qiskit.quantum_info.Statevector(circuit)` gives for the same circuit:
//! `u3 = u = UGate`, `u2(φ,λ) = UGate(π/2, φ, λ)`, `u1 = p = PhaseGate`,
//! `cu1 = cp = CPhaseGate`, `rzz = RZZGate`. A `gate` definition that redefines one of these
//! built-in names (as some exporters emit) is parsed but the built-in matrix is used, as
//! Qiskit's importer does.
//!
//! # References
//!
//! * A. W. Cross, L. S. Bishop, J. A. Smolin, J. M. Gambetta, "Open Quantum Assembly
//!   Language", arXiv:1707.03429 (OpenQASM 2.0 specification and qelib1.inc).
//! * Qiskit `qiskit.qasm2` module documentation (`dumps`, `loads`, legacy custom gates).

use crate::math::Det;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::io;
use std::rc::Rc;

use num_complex::Complex64;
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use super::noise::NoiseModel;
use super::statevector::{Circuit, Gate, Op, SimOptions, StateVector, simulate};

/// A parse (or run) error at a 1-based `line` and `col`; `line == 0` means the error is
/// not tied to a source position (e.g. an unknown noise profile).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QasmError {
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

impl fmt::Display for QasmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.msg)
        } else {
            write!(f, "line {}, column {}: {}", self.line, self.col, self.msg)
        }
    }
}

impl std::error::Error for QasmError {}

/// Most parameters of one gate (definition or call).
pub const MAX_GATE_PARAMS: usize = 1024;
/// Most qubit arguments of one gate definition (a call needs that many distinct qubits, and a
/// state vector of more than 64 qubits cannot exist).
pub const MAX_GATE_QUBITS: usize = 64;

/// What a program may ask for. Every limit that is hit is named in the error. See the module
/// doc's table for the defaults and why.
#[derive(Clone, Debug, PartialEq)]
pub struct QasmLimits {
    /// Memory a run may use, bytes: the state vector(s) (16 bytes × 2^n each), the sampled
    /// shots, the counts and the expanded operations ([`memory_estimate_bytes`]). The number of
    /// qubits a `qreg` may bring follows from it (26 for the default 2 GiB).
    pub max_memory_bytes: u64,
    /// Operations of the expanded circuit, plus the statements stored in gate bodies; counted
    /// before expanding a call.
    pub max_ops: u64,
    /// Nesting and tree depth of a parameter expression.
    pub max_expr_depth: usize,
    /// Levels of user gates calling user gates.
    pub max_gate_nesting: usize,
    /// Shots of one run.
    pub max_shots: u64,
    /// Amplitude updates of a run, `runs × (operations + 1) × 2^n`, where `runs` is 1 for an
    /// ideal circuit measured only at the end and `shots` otherwise (every shot a trajectory).
    pub max_work: u64,
    /// Classical bits in all registers.
    pub max_clbits: usize,
    /// Size of the program text, bytes.
    pub max_source_bytes: usize,
}

impl Default for QasmLimits {
    fn default() -> Self {
        Self {
            max_memory_bytes: 2 << 30,
            max_ops: 10_000_000,
            max_expr_depth: 100,
            max_gate_nesting: 100,
            max_shots: 100_000_000,
            max_work: 1 << 40,
            max_clbits: 4096,
            max_source_bytes: 64 << 20,
        }
    }
}

impl QasmLimits {
    /// Most qubits whose state vector (16 bytes × 2^n) leaves room in `max_memory_bytes` for
    /// the rest of a run (it must be smaller than the limit, not equal to it).
    pub fn max_qubits(&self) -> usize {
        let amps = self.max_memory_bytes.saturating_sub(1) / 16;
        if amps == 0 {
            0
        } else {
            (63 - amps.leading_zeros()) as usize
        }
    }
}

/// Bytes of one operation of a circuit held in memory: the `Op` in the circuit and in the run's
/// instruction list, its qubit list's heap block and the allocator's bookkeeping.
const OP_BYTES: u128 = 2 * std::mem::size_of::<Op>() as u128 + 64;

/// Memory a run of `circuit` needs, bytes: one state vector (16 bytes × 2^n) for an ideal
/// circuit measured only at the end, two (the final state and a trajectory's) otherwise, plus a
/// state per rayon worker for small states run in parallel, 8 bytes per sampled shot, the counts
/// (one key of `num_clbits` characters per distinct outcome) and the operations.
pub fn memory_estimate_bytes(circuit: &Circuit, shots: u64, noisy: bool) -> u128 {
    let n = circuit.num_qubits.min(100) as u32;
    let state = 16u128 << n;
    let trajectories = noisy || !circuit.is_sampleable_at_end();
    let mut vectors = if trajectories { 2 } else { 1 };
    if trajectories && (n as usize) < super::statevector::BLOCK_QUBITS {
        vectors += rayon::current_num_threads() as u128;
    }
    let outcomes = if circuit.num_clbits < 64 {
        (shots as u128).min(1u128 << circuit.num_clbits)
    } else {
        shots as u128
    };
    vectors * state
        + 8 * shots as u128
        + outcomes * (circuit.num_clbits as u128 + 64)
        + circuit.ops.len() as u128 * OP_BYTES
}

/// Amplitude updates of a run (see [`QasmLimits::max_work`]).
pub fn work_estimate(circuit: &Circuit, shots: u64, noisy: bool) -> u128 {
    let runs = if noisy || !circuit.is_sampleable_at_end() {
        shots.max(1) as u128
    } else {
        1
    };
    (runs * (circuit.ops.len() as u128 + 1)) << circuit.num_qubits.min(100)
}

pub use crate::limits::fmt_bytes;

/// 16 bytes × 2^n, formatted (any n).
fn fmt_bytes_pow2(n: u64) -> String {
    if n <= 100 {
        fmt_bytes(16u128 << n)
    } else {
        format!("2^{} bytes", n + 4)
    }
}

/// Parses a byte count: `1073741824`, `1e9`, `512MiB`, `2GiB`, `1.5 GB` (KB/MB/GB are powers of
/// 1000, KiB/MiB/GiB of 1024).
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(t.len());
    let (num, unit) = (t[..split].trim(), t[split..].trim());
    let v: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size (e.g. 2GiB, 512MiB, 1e9)"))?;
    let k: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "'{s}': unknown unit '{unit}' (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)"
            ));
        }
    };
    let b = v * k;
    if !b.is_finite() || !(0.0..1.8e19).contains(&b) {
        return Err(format!("'{s}' is not a size between 0 and 16 EiB"));
    }
    Ok(b as u64)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// A number and whether it was written as an integer.
    Num(f64, bool),
    Str(String),
    Sym(&'static str),
    Eof,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
    col: usize,
}

fn err<T>(line: usize, col: usize, msg: impl Into<String>) -> Result<T, QasmError> {
    Err(QasmError {
        line,
        col,
        msg: msg.into(),
    })
}

const SYMBOLS: [&str; 15] = [
    "->", "==", ";", ",", "(", ")", "[", "]", "{", "}", "+", "-", "*", "/", "^",
];

/// An on-demand tokenizer over the source's bytes: no copy of the source, one token at a time.
/// Lines and columns count characters (UTF-8 continuation bytes do not advance the column).
struct Lexer<'a> {
    text: &'a str,
    src: &'a [u8],
    i: usize,
    line: usize,
    col: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            src: text.as_bytes(),
            i: 0,
            line: 1,
            col: 1,
        }
    }

    fn at(&self, k: usize) -> Option<u8> {
        self.src.get(self.i + k).copied()
    }

    fn bump(&mut self, k: usize) {
        for _ in 0..k {
            let b = self.src[self.i];
            if b == b'\n' {
                self.line += 1;
                self.col = 1;
            } else if b & 0xC0 != 0x80 {
                self.col += 1;
            }
            self.i += 1;
        }
    }

    fn bump_while(&mut self, f: impl Fn(u8) -> bool) {
        while self.at(0).is_some_and(&f) {
            self.bump(1);
        }
    }

    fn next_token(&mut self) -> Result<Token, QasmError> {
        loop {
            let Some(c) = self.at(0) else {
                return Ok(Token {
                    tok: Tok::Eof,
                    line: self.line,
                    col: self.col,
                });
            };
            let next = self.at(1);
            let (line, col) = (self.line, self.col);
            if c.is_ascii_whitespace() || c == 0x0B {
                self.bump(1);
            } else if c >= 0x80
                && self.text[self.i..]
                    .chars()
                    .next()
                    .is_some_and(char::is_whitespace)
            {
                self.bump(1);
                self.bump_while(|b| b & 0xC0 == 0x80);
            } else if c == b'/' && next == Some(b'/') {
                self.bump_while(|b| b != b'\n');
            } else if c == b'/' && next == Some(b'*') {
                self.bump(2);
                loop {
                    if self.at(1).is_none() {
                        return err(line, col, "unterminated comment");
                    }
                    if self.at(0) == Some(b'*') && self.at(1) == Some(b'/') {
                        self.bump(2);
                        break;
                    }
                    self.bump(1);
                }
            } else if c.is_ascii_alphabetic() || c == b'_' {
                let start = self.i;
                self.bump_while(|b| b.is_ascii_alphanumeric() || b == b'_');
                return Ok(Token {
                    tok: Tok::Ident(self.text[start..self.i].to_string()),
                    line,
                    col,
                });
            } else if c.is_ascii_digit() || (c == b'.' && next.is_some_and(|d| d.is_ascii_digit()))
            {
                let start = self.i;
                let mut int = true;
                self.bump_while(|b| b.is_ascii_digit());
                if self.at(0) == Some(b'.') {
                    int = false;
                    self.bump(1);
                    self.bump_while(|b| b.is_ascii_digit());
                }
                if matches!(self.at(0), Some(b'e' | b'E')) {
                    let mut j = 1;
                    if matches!(self.at(j), Some(b'+' | b'-')) {
                        j += 1;
                    }
                    if self.at(j).is_some_and(|d| d.is_ascii_digit()) {
                        int = false;
                        self.bump(j);
                        self.bump_while(|b| b.is_ascii_digit());
                    }
                }
                let text = &self.text[start..self.i];
                let value: f64 = match text.parse() {
                    Ok(v) => v,
                    Err(_) => return err(line, col, format!("invalid number '{text}'")),
                };
                return Ok(Token {
                    tok: Tok::Num(value, int),
                    line,
                    col,
                });
            } else if c == b'"' {
                self.bump(1);
                let start = self.i;
                self.bump_while(|b| b != b'"' && b != b'\n');
                if self.at(0) != Some(b'"') {
                    return err(line, col, "unterminated string");
                }
                let s = self.text[start..self.i].to_string();
                self.bump(1);
                return Ok(Token {
                    tok: Tok::Str(s),
                    line,
                    col,
                });
            } else {
                let sym = SYMBOLS.iter().find(|s| {
                    let b = s.as_bytes();
                    b[0] == c && (b.len() == 1 || next == Some(b[1]))
                });
                return match sym {
                    Some(s) => {
                        self.bump(s.len());
                        Ok(Token {
                            tok: Tok::Sym(s),
                            line,
                            col,
                        })
                    }
                    None => {
                        let ch = self.text[self.i..].chars().next().unwrap_or('?');
                        err(line, col, format!("unexpected character '{ch}'"))
                    }
                };
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Func {
    Sin,
    Cos,
    Tan,
    Exp,
    Ln,
    Sqrt,
}

/// Parameter expression; `Param(k)` is the `k`-th parameter of the enclosing gate.
#[derive(Clone, Debug, PartialEq)]
enum Expr {
    Num(f64),
    Param(usize),
    Neg(Box<Expr>),
    Bin(char, Box<Expr>, Box<Expr>),
    Call(Func, Box<Expr>),
}

impl Expr {
    fn eval(&self, params: &[f64]) -> f64 {
        match self {
            Expr::Num(v) => *v,
            Expr::Param(k) => params[*k],
            Expr::Neg(e) => -e.eval(params),
            Expr::Bin(op, a, b) => {
                let (a, b) = (a.eval(params), b.eval(params));
                match op {
                    '+' => a + b,
                    '-' => a - b,
                    '*' => a * b,
                    '/' => a / b,
                    _ => a.powf_d(b),
                }
            }
            Expr::Call(f, e) => {
                let x = e.eval(params);
                match f {
                    Func::Sin => x.sin_d(),
                    Func::Cos => x.cos_d(),
                    Func::Tan => x.tan_d(),
                    Func::Exp => x.exp_d(),
                    Func::Ln => x.ln_d(),
                    Func::Sqrt => x.sqrt(),
                }
            }
        }
    }
}

/// Built-in gates: name → (number of parameters, number of qubits).
fn builtin(name: &str) -> Option<(usize, usize)> {
    Some(match name {
        "h" | "x" | "y" | "z" | "s" | "sdg" | "t" | "tdg" | "id" => (0, 1),
        "rx" | "ry" | "rz" | "u1" | "p" => (1, 1),
        "u2" => (2, 1),
        "u3" | "u" | "U" => (3, 1),
        "cx" | "CX" | "cz" | "swap" => (0, 2),
        "cu1" | "cp" | "rzz" => (1, 2),
        _ => return None,
    })
}

fn make_builtin(name: &str, p: &[f64]) -> Gate {
    match name {
        "h" => Gate::H,
        "x" => Gate::X,
        "y" => Gate::Y,
        "z" => Gate::Z,
        "s" => Gate::S,
        "sdg" => Gate::Sdg,
        "t" => Gate::T,
        "tdg" => Gate::Tdg,
        "id" => Gate::Id,
        "rx" => Gate::RX(p[0]),
        "ry" => Gate::RY(p[0]),
        "rz" => Gate::RZ(p[0]),
        "u1" | "p" => Gate::P(p[0]),
        "u2" => Gate::U(std::f64::consts::FRAC_PI_2, p[0], p[1]),
        "u3" | "u" | "U" => Gate::U(p[0], p[1], p[2]),
        "cx" | "CX" => Gate::CX,
        "cz" => Gate::CZ,
        "swap" => Gate::Swap,
        "cu1" | "cp" => Gate::CP(p[0]),
        "rzz" => Gate::RZZ(p[0]),
        _ => unreachable!("not a built-in gate: {name}"),
    }
}

/// A statement in a gate body: a gate call (`name`) or a barrier (`name == None`) on the
/// definition's qubit arguments `args`.
#[derive(Clone, Debug)]
struct BodyOp {
    name: Option<String>,
    line: usize,
    col: usize,
    params: Vec<Expr>,
    args: Vec<usize>,
}

#[derive(Clone, Debug)]
struct GateDef {
    num_params: usize,
    num_qubits: usize,
    body: Vec<BodyOp>,
    /// Operations one call expands to (saturating), counted when the gate is defined.
    expanded_ops: u64,
    /// Levels of user gates below and including this one.
    nesting: usize,
}

#[derive(Clone, Debug)]
struct Register {
    name: String,
    offset: usize,
    size: usize,
}

/// A qubit or clbit argument: a whole register or one of its bits.
struct Arg {
    bits: Vec<usize>,
    line: usize,
    col: usize,
}

/// A parsed program: the flattened circuit and the register layout.
#[derive(Clone, Debug, PartialEq)]
pub struct QasmProgram {
    pub circuit: Circuit,
    /// Quantum registers `(name, size)` in declaration order.
    pub qregs: Vec<(String, usize)>,
    /// Classical registers `(name, size)` in declaration order.
    pub cregs: Vec<(String, usize)>,
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    /// The one token of lookahead.
    cur: Token,
    limits: QasmLimits,
    qregs: Vec<Register>,
    cregs: Vec<Register>,
    /// Register name → (quantum?, index in `qregs`/`cregs`).
    reg_index: HashMap<String, (bool, usize)>,
    gates: HashMap<String, Rc<GateDef>>,
    ops: Vec<Op>,
    /// Statements stored in gate bodies (counted against `max_ops` too).
    body_ops: u64,
    /// Current nesting of the expression parser.
    depth: usize,
}

/// Expression tree and its height.
type Sized = (Expr, usize);

impl<'a> Parser<'a> {
    fn peek(&self) -> &Token {
        &self.cur
    }

    fn next(&mut self) -> Result<Token, QasmError> {
        if self.cur.tok == Tok::Eof {
            return Ok(self.cur.clone());
        }
        let t = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.cur, t))
    }

    fn describe(t: &Tok) -> String {
        match t {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Num(v, _) => format!("number {v}"),
            Tok::Str(s) => format!("string \"{s}\""),
            Tok::Sym(s) => format!("'{s}'"),
            Tok::Eof => "end of file".into(),
        }
    }

    fn expect_sym(&mut self, s: &'static str) -> Result<Token, QasmError> {
        let t = self.next()?;
        if t.tok == Tok::Sym(s) {
            Ok(t)
        } else {
            err(
                t.line,
                t.col,
                format!("expected '{s}', found {}", Self::describe(&t.tok)),
            )
        }
    }

    fn eat_sym(&mut self, s: &'static str) -> Result<bool, QasmError> {
        if self.peek().tok == Tok::Sym(s) {
            self.next()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn expect_ident(&mut self) -> Result<(String, usize, usize), QasmError> {
        let t = self.next()?;
        match t.tok {
            Tok::Ident(s) => Ok((s, t.line, t.col)),
            other => err(
                t.line,
                t.col,
                format!("expected an identifier, found {}", Self::describe(&other)),
            ),
        }
    }

    fn expect_int(&mut self) -> Result<usize, QasmError> {
        let t = self.next()?;
        match t.tok {
            Tok::Num(v, true) if v < 1e15 => Ok(v as usize),
            other => err(
                t.line,
                t.col,
                format!("expected an integer, found {}", Self::describe(&other)),
            ),
        }
    }

    // ---- expressions -------------------------------------------------------------------

    /// One more level of nesting (parenthesis, function call, unary sign, power), refused
    /// past [`QasmLimits::max_expr_depth`] so that `((((…` cannot overflow the stack.
    fn enter(&mut self) -> Result<(), QasmError> {
        self.depth += 1;
        if self.depth > self.limits.max_expr_depth {
            let t = self.peek();
            return err(
                t.line,
                t.col,
                format!(
                    "expression nested more than {} levels deep (the limit)",
                    self.limits.max_expr_depth
                ),
            );
        }
        Ok(())
    }

    /// A node over children of heights `hs`, refused past the depth limit (long chains like
    /// `1+1+1+…` build deep trees without nesting in the text).
    fn node(&self, e: Expr, hs: &[usize]) -> Result<Sized, QasmError> {
        let h = 1 + hs.iter().copied().max().unwrap_or(0);
        if h > self.limits.max_expr_depth {
            let t = self.peek();
            return err(
                t.line,
                t.col,
                format!(
                    "expression more than {} operations deep (the limit)",
                    self.limits.max_expr_depth
                ),
            );
        }
        Ok((e, h))
    }

    fn expr(&mut self, names: &[String]) -> Result<Expr, QasmError> {
        Ok(self.expr_h(names)?.0)
    }

    fn expr_h(&mut self, names: &[String]) -> Result<Sized, QasmError> {
        self.enter()?;
        let (mut e, mut h) = self.term(names)?;
        loop {
            let op = match self.peek().tok {
                Tok::Sym("+") => '+',
                Tok::Sym("-") => '-',
                _ => break,
            };
            self.next()?;
            let (b, hb) = self.term(names)?;
            (e, h) = self.node(Expr::Bin(op, Box::new(e), Box::new(b)), &[h, hb])?;
        }
        self.depth -= 1;
        Ok((e, h))
    }

    fn term(&mut self, names: &[String]) -> Result<Sized, QasmError> {
        let (mut e, mut h) = self.unary(names)?;
        loop {
            let op = match self.peek().tok {
                Tok::Sym("*") => '*',
                Tok::Sym("/") => '/',
                _ => return Ok((e, h)),
            };
            self.next()?;
            let (b, hb) = self.unary(names)?;
            (e, h) = self.node(Expr::Bin(op, Box::new(e), Box::new(b)), &[h, hb])?;
        }
    }

    /// `unary` one level deeper (after a sign or `^`).
    fn nested_unary(&mut self, names: &[String]) -> Result<Sized, QasmError> {
        self.enter()?;
        let r = self.unary(names)?;
        self.depth -= 1;
        Ok(r)
    }

    fn unary(&mut self, names: &[String]) -> Result<Sized, QasmError> {
        if self.eat_sym("-")? {
            let (e, h) = self.nested_unary(names)?;
            self.node(Expr::Neg(Box::new(e)), &[h])
        } else if self.eat_sym("+")? {
            self.nested_unary(names)
        } else {
            let (base, hb) = self.primary(names)?;
            if self.eat_sym("^")? {
                let (e, he) = self.nested_unary(names)?;
                self.node(Expr::Bin('^', Box::new(base), Box::new(e)), &[hb, he])
            } else {
                Ok((base, hb))
            }
        }
    }

    fn primary(&mut self, names: &[String]) -> Result<Sized, QasmError> {
        let t = self.next()?;
        match t.tok {
            Tok::Num(v, _) => Ok((Expr::Num(v), 1)),
            Tok::Sym("(") => {
                let e = self.expr_h(names)?;
                self.expect_sym(")")?;
                Ok(e)
            }
            Tok::Ident(name) => {
                let func = match name.as_str() {
                    "pi" => return Ok((Expr::Num(std::f64::consts::PI), 1)),
                    "sin" => Func::Sin,
                    "cos" => Func::Cos,
                    "tan" => Func::Tan,
                    "exp" => Func::Exp,
                    "ln" => Func::Ln,
                    "sqrt" => Func::Sqrt,
                    _ => {
                        return match names.iter().position(|n| *n == name) {
                            Some(k) => Ok((Expr::Param(k), 1)),
                            None => err(t.line, t.col, format!("unknown parameter '{name}'")),
                        };
                    }
                };
                self.expect_sym("(")?;
                let (e, h) = self.expr_h(names)?;
                self.expect_sym(")")?;
                self.node(Expr::Call(func, Box::new(e)), &[h])
            }
            other => err(
                t.line,
                t.col,
                format!("expected an expression, found {}", Self::describe(&other)),
            ),
        }
    }

    /// `( expr, … )` if present.
    fn param_list(&mut self, names: &[String]) -> Result<Vec<Expr>, QasmError> {
        let mut params = Vec::new();
        if self.eat_sym("(")? && !self.eat_sym(")")? {
            loop {
                if params.len() >= MAX_GATE_PARAMS {
                    let t = self.peek();
                    return err(
                        t.line,
                        t.col,
                        format!("more than {MAX_GATE_PARAMS} parameters (the limit)"),
                    );
                }
                params.push(self.expr(names)?);
                if self.eat_sym(")")? {
                    break;
                }
                self.expect_sym(",")?;
            }
        }
        Ok(params)
    }

    // ---- statements --------------------------------------------------------------------

    fn program(&mut self) -> Result<(), QasmError> {
        if matches!(&self.peek().tok, Tok::Ident(s) if s == "OPENQASM") {
            self.next()?;
            let t = self.next()?;
            match t.tok {
                Tok::Num(2.0, _) => {}
                other => {
                    return err(
                        t.line,
                        t.col,
                        format!(
                            "only OpenQASM 2.0 is supported, found {}",
                            Self::describe(&other)
                        ),
                    );
                }
            }
            self.expect_sym(";")?;
        }
        while self.peek().tok != Tok::Eof {
            self.statement()?;
        }
        Ok(())
    }

    /// Appends an operation, refused past [`QasmLimits::max_ops`].
    fn push_op(&mut self, op: Op, line: usize, col: usize) -> Result<(), QasmError> {
        if self.ops.len() as u64 + self.body_ops >= self.limits.max_ops {
            return err(line, col, self.ops_limit_msg(1));
        }
        self.ops.push(op);
        Ok(())
    }

    fn ops_limit_msg(&self, more: u64) -> String {
        format!(
            "the circuit would have {} operations (with {} in gate bodies), over the limit of {} expanded operations",
            (self.ops.len() as u64).saturating_add(more),
            self.body_ops,
            self.limits.max_ops
        )
    }

    fn declare(&mut self, quantum: bool, line: usize, col: usize) -> Result<(), QasmError> {
        let (name, l, c) = self.expect_ident()?;
        self.expect_sym("[")?;
        let size = self.expect_int()?;
        self.expect_sym("]")?;
        self.expect_sym(";")?;
        if self.reg_index.contains_key(&name) {
            return err(l, c, format!("register '{name}' is already declared"));
        }
        let regs = if quantum { &self.qregs } else { &self.cregs };
        let offset: usize = regs.last().map_or(0, |r| r.offset + r.size);
        let total = offset as u64 + size as u64;
        if quantum {
            let max = self.limits.max_qubits();
            if total > max as u64 {
                return err(
                    line,
                    col,
                    format!(
                        "qreg {name}[{size}]: {total} qubits need {} for the state vector (16 bytes × 2^{total} amplitudes), more than the memory limit of {} allows (at most {max} qubits; see --max-memory)",
                        fmt_bytes_pow2(total),
                        fmt_bytes(self.limits.max_memory_bytes as u128)
                    ),
                );
            }
        } else if total > self.limits.max_clbits as u64 {
            return err(
                line,
                col,
                format!(
                    "creg {name}[{size}]: {total} classical bits in all, over the limit of {}",
                    self.limits.max_clbits
                ),
            );
        }
        let regs = if quantum {
            &mut self.qregs
        } else {
            &mut self.cregs
        };
        self.reg_index.insert(name.clone(), (quantum, regs.len()));
        regs.push(Register { name, offset, size });
        Ok(())
    }

    fn statement(&mut self) -> Result<(), QasmError> {
        let t = self.next()?;
        let Tok::Ident(word) = t.tok else {
            return err(
                t.line,
                t.col,
                format!("expected a statement, found {}", Self::describe(&t.tok)),
            );
        };
        match word.as_str() {
            "OPENQASM" => err(t.line, t.col, "'OPENQASM' must be the first statement"),
            "include" => {
                let s = self.next()?;
                match s.tok {
                    Tok::Str(f) if f == "qelib1.inc" => {}
                    Tok::Str(f) => return err(s.line, s.col, format!("cannot include \"{f}\"")),
                    other => {
                        return err(
                            s.line,
                            s.col,
                            format!("expected a file name, found {}", Self::describe(&other)),
                        );
                    }
                }
                self.expect_sym(";")?;
                Ok(())
            }
            "qreg" => self.declare(true, t.line, t.col),
            "creg" => self.declare(false, t.line, t.col),
            "gate" => self.gate_definition(),
            "opaque" => err(t.line, t.col, "opaque gate declarations are not supported"),
            "if" => err(
                t.line,
                t.col,
                "classically conditioned operations ('if') are not supported",
            ),
            "measure" => {
                let q = self.arg(true)?;
                self.expect_sym("->")?;
                let c = self.arg(false)?;
                self.expect_sym(";")?;
                if q.bits.len() != c.bits.len() {
                    return err(
                        c.line,
                        c.col,
                        format!(
                            "measure of {} qubit(s) into {} clbit(s)",
                            q.bits.len(),
                            c.bits.len()
                        ),
                    );
                }
                for (qubit, clbit) in q.bits.into_iter().zip(c.bits) {
                    self.push_op(Op::Measure { qubit, clbit }, t.line, t.col)?;
                }
                Ok(())
            }
            "reset" => {
                let q = self.arg(true)?;
                self.expect_sym(";")?;
                for qubit in q.bits {
                    self.push_op(Op::Reset { qubit }, t.line, t.col)?;
                }
                Ok(())
            }
            "barrier" => {
                // Repeated arguments are merged as they come, so a long list stays small.
                let mut qubits = BTreeSet::new();
                loop {
                    qubits.extend(self.arg(true)?.bits);
                    if !self.eat_sym(",")? {
                        break;
                    }
                }
                self.expect_sym(";")?;
                let qubits = qubits.into_iter().collect();
                self.push_op(Op::Barrier { qubits }, t.line, t.col)
            }
            _ => self.gate_call(word, t.line, t.col),
        }
    }

    /// `name` or `name[index]`, resolved against the quantum or classical registers.
    fn arg(&mut self, quantum: bool) -> Result<Arg, QasmError> {
        let (name, line, col) = self.expect_ident()?;
        let reg = match self.reg_index.get(&name) {
            Some(&(q, i)) if q == quantum => {
                if q {
                    self.qregs[i].clone()
                } else {
                    self.cregs[i].clone()
                }
            }
            _ => {
                let kind = if quantum { "quantum" } else { "classical" };
                return err(line, col, format!("unknown {kind} register '{name}'"));
            }
        };
        if self.eat_sym("[")? {
            let t = self.peek().clone();
            let k = self.expect_int()?;
            self.expect_sym("]")?;
            if k >= reg.size {
                return err(
                    t.line,
                    t.col,
                    format!(
                        "index {k} out of range for register '{name}' of size {}",
                        reg.size
                    ),
                );
            }
            Ok(Arg {
                bits: vec![reg.offset + k],
                line,
                col,
            })
        } else {
            Ok(Arg {
                bits: (reg.offset..reg.offset + reg.size).collect(),
                line,
                col,
            })
        }
    }

    /// At most `max` quantum arguments (more is an error as soon as it is seen).
    fn arg_list(&mut self, name: &str, max: usize) -> Result<Vec<Arg>, QasmError> {
        let mut args = vec![self.arg(true)?];
        while self.eat_sym(",")? {
            if args.len() >= max {
                let t = self.peek();
                return err(
                    t.line,
                    t.col,
                    format!("gate '{name}' acts on {max} qubit(s), more given"),
                );
            }
            args.push(self.arg(true)?);
        }
        Ok(args)
    }

    /// Number of parameters and qubits of a gate name, if known.
    fn signature(&self, name: &str) -> Option<(usize, usize)> {
        builtin(name).or_else(|| self.gates.get(name).map(|d| (d.num_params, d.num_qubits)))
    }

    /// Operations one call of `name` expands to.
    fn expanded_ops(&self, name: &str) -> u64 {
        self.gates.get(name).map_or(1, |d| d.expanded_ops)
    }

    fn check_signature(
        &self,
        name: &str,
        line: usize,
        col: usize,
        params: usize,
        qubits: usize,
    ) -> Result<(), QasmError> {
        let Some((np, nq)) = self.signature(name) else {
            return err(line, col, format!("unknown gate '{name}'"));
        };
        if np != params {
            return err(
                line,
                col,
                format!("gate '{name}' takes {np} parameter(s), {params} given"),
            );
        }
        if nq != qubits {
            return err(
                line,
                col,
                format!("gate '{name}' acts on {nq} qubit(s), {qubits} given"),
            );
        }
        Ok(())
    }

    fn gate_call(&mut self, name: String, line: usize, col: usize) -> Result<(), QasmError> {
        let Some((_, arity)) = self.signature(&name) else {
            return err(line, col, format!("unknown gate '{name}'"));
        };
        let exprs = self.param_list(&[])?;
        let args = self.arg_list(&name, arity)?;
        self.expect_sym(";")?;
        self.check_signature(&name, line, col, exprs.len(), args.len())?;
        let params: Vec<f64> = exprs.iter().map(|e| e.eval(&[])).collect();
        if params.iter().any(|p| !p.is_finite()) {
            return err(line, col, "parameter is not a finite number");
        }
        let width = args.iter().map(|a| a.bits.len()).max().unwrap_or(1);
        for a in &args {
            if a.bits.len() != 1 && a.bits.len() != width {
                return err(
                    a.line,
                    a.col,
                    "registers of different sizes in one gate call",
                );
            }
        }
        // Counted before expanding: a chain of gates that each call the previous one twice
        // would otherwise expand to 2^k operations.
        let more = (width as u64).saturating_mul(self.expanded_ops(&name));
        if (self.ops.len() as u64)
            .saturating_add(self.body_ops)
            .saturating_add(more)
            > self.limits.max_ops
        {
            return err(
                line,
                col,
                format!("call of '{name}': {}", self.ops_limit_msg(more)),
            );
        }
        for i in 0..width {
            let qubits: Vec<usize> = args
                .iter()
                .map(|a| a.bits[if a.bits.len() == 1 { 0 } else { i }])
                .collect();
            if (1..qubits.len()).any(|j| qubits[..j].contains(&qubits[j])) {
                return err(line, col, format!("repeated qubit in call of '{name}'"));
            }
            self.expand(&name, &params, &qubits, line, col)?;
        }
        Ok(())
    }

    fn expand(
        &mut self,
        name: &str,
        params: &[f64],
        qubits: &[usize],
        line: usize,
        col: usize,
    ) -> Result<(), QasmError> {
        if builtin(name).is_some() {
            self.ops.push(Op::Gate {
                gate: make_builtin(name, params),
                qubits: qubits.to_vec(),
            });
            return Ok(());
        }
        let def = Rc::clone(&self.gates[name]);
        for op in &def.body {
            let qs: Vec<usize> = op.args.iter().map(|&a| qubits[a]).collect();
            match &op.name {
                None => self.ops.push(Op::Barrier { qubits: qs }),
                Some(inner) => {
                    let ps: Vec<f64> = op.params.iter().map(|e| e.eval(params)).collect();
                    if ps.iter().any(|p| !p.is_finite()) {
                        return err(
                            op.line,
                            op.col,
                            format!(
                                "parameter is not a finite number (in a call of '{name}' at line {line}, column {col})"
                            ),
                        );
                    }
                    self.expand(inner, &ps, &qs, line, col)?;
                }
            }
        }
        Ok(())
    }

    /// Identifiers separated by commas, at most `max` of them (`what` names them in the error).
    fn ident_list(
        &mut self,
        max: usize,
        what: &str,
    ) -> Result<Vec<(String, usize, usize)>, QasmError> {
        let mut v = vec![self.expect_ident()?];
        while self.eat_sym(",")? {
            if v.len() >= max {
                let t = self.peek();
                return err(
                    t.line,
                    t.col,
                    format!("more than {max} {what}s (the limit)"),
                );
            }
            v.push(self.expect_ident()?);
        }
        Ok(v)
    }

    fn gate_definition(&mut self) -> Result<(), QasmError> {
        let (name, line, col) = self.expect_ident()?;
        let mut params = Vec::new();
        if self.eat_sym("(")? && !self.eat_sym(")")? {
            params = self.ident_list(MAX_GATE_PARAMS, "parameter")?;
            self.expect_sym(")")?;
        }
        let qargs = self.ident_list(MAX_GATE_QUBITS, "qubit argument")?;
        let pnames: Vec<String> = params.iter().map(|p| p.0.clone()).collect();
        let qnames: Vec<String> = qargs.iter().map(|p| p.0.clone()).collect();
        for (list, what) in [(&params, "parameter"), (&qargs, "qubit argument")] {
            for (j, (n, l, c)) in list.iter().enumerate() {
                if list[..j].iter().any(|p| p.0 == *n) {
                    return err(*l, *c, format!("duplicate {what} '{n}'"));
                }
            }
        }
        self.expect_sym("{")?;
        let mut body = Vec::new();
        let (mut expanded, mut nesting) = (0u64, 1usize);
        while !self.eat_sym("}")? {
            let (word, l, c) = self.expect_ident()?;
            self.body_ops += 1;
            if self.ops.len() as u64 + self.body_ops > self.limits.max_ops {
                return err(l, c, self.ops_limit_msg(0));
            }
            match word.as_str() {
                "barrier" => {
                    let args = self.body_args(&qnames)?;
                    self.expect_sym(";")?;
                    expanded = expanded.saturating_add(1);
                    body.push(BodyOp {
                        name: None,
                        line: l,
                        col: c,
                        params: Vec::new(),
                        args,
                    });
                }
                "measure" | "reset" | "if" | "opaque" | "gate" | "qreg" | "creg" => {
                    return err(l, c, format!("'{word}' is not allowed in a gate body"));
                }
                _ => {
                    if self.signature(&word).is_none() {
                        return err(l, c, format!("unknown gate '{word}'"));
                    }
                    let exprs = self.param_list(&pnames)?;
                    let args = self.body_args(&qnames)?;
                    self.expect_sym(";")?;
                    self.check_signature(&word, l, c, exprs.len(), args.len())?;
                    if (1..args.len()).any(|j| args[..j].contains(&args[j])) {
                        return err(l, c, format!("repeated qubit in call of '{word}'"));
                    }
                    expanded = expanded.saturating_add(self.expanded_ops(&word));
                    if let Some(d) = self.gates.get(&word) {
                        nesting = nesting.max(d.nesting + 1);
                        if nesting > self.limits.max_gate_nesting {
                            return err(
                                l,
                                c,
                                format!(
                                    "gate definitions nested more than {} levels deep (the limit)",
                                    self.limits.max_gate_nesting
                                ),
                            );
                        }
                    }
                    body.push(BodyOp {
                        name: Some(word),
                        line: l,
                        col: c,
                        params: exprs,
                        args,
                    });
                }
            }
        }
        if builtin(&name).is_some() {
            // Redefinition of a standard gate: keep the built-in (Qiskit's) matrix.
            return Ok(());
        }
        if self.gates.contains_key(&name) {
            return err(line, col, format!("gate '{name}' is already defined"));
        }
        self.gates.insert(
            name,
            Rc::new(GateDef {
                num_params: params.len(),
                num_qubits: qargs.len(),
                body,
                expanded_ops: expanded,
                nesting,
            }),
        );
        Ok(())
    }

    fn body_args(&mut self, qnames: &[String]) -> Result<Vec<usize>, QasmError> {
        let idents = self.ident_list(MAX_GATE_QUBITS, "qubit argument")?;
        idents
            .into_iter()
            .map(|(n, l, c)| match qnames.iter().position(|q| *q == n) {
                Some(k) => Ok(k),
                None => err(l, c, format!("unknown qubit argument '{n}'")),
            })
            .collect()
    }
}

/// Parses an OpenQASM 2.0 program with the default [`QasmLimits`].
pub fn parse_program(source: &str) -> Result<QasmProgram, QasmError> {
    parse_program_with(source, &QasmLimits::default())
}

/// Parses an OpenQASM 2.0 program within `limits` (source size, qubits from the memory they
/// need, classical bits, expanded operations, expression depth, gate nesting).
pub fn parse_program_with(source: &str, limits: &QasmLimits) -> Result<QasmProgram, QasmError> {
    if source.len() > limits.max_source_bytes {
        return err(
            0,
            0,
            format!(
                "the program is {} long, over the limit of {}",
                fmt_bytes(source.len() as u128),
                fmt_bytes(limits.max_source_bytes as u128)
            ),
        );
    }
    let mut lexer = Lexer::new(source);
    let cur = lexer.next_token()?;
    let mut p = Parser {
        lexer,
        cur,
        limits: limits.clone(),
        qregs: Vec::new(),
        cregs: Vec::new(),
        reg_index: HashMap::new(),
        gates: HashMap::new(),
        ops: Vec::new(),
        body_ops: 0,
        depth: 0,
    };
    p.program()?;
    let num_qubits = p.qregs.iter().map(|r| r.size).sum();
    let num_clbits = p.cregs.iter().map(|r| r.size).sum();
    Ok(QasmProgram {
        circuit: Circuit {
            num_qubits,
            num_clbits,
            ops: p.ops,
        },
        qregs: p.qregs.into_iter().map(|r| (r.name, r.size)).collect(),
        cregs: p.cregs.into_iter().map(|r| (r.name, r.size)).collect(),
    })
}

/// Parses an OpenQASM 2.0 program into a flattened circuit.
pub fn parse(source: &str) -> Result<Circuit, QasmError> {
    parse_program(source).map(|p| p.circuit)
}

/// Result of [`run_qasm_cli`].
#[derive(Clone, Debug)]
pub struct QasmRun {
    pub program: QasmProgram,
    /// Counts keyed Qiskit-style: clbit 0 rightmost, registers separated by a space (the
    /// last-declared register leftmost).
    pub counts: BTreeMap<String, u64>,
    /// Noiseless final state with terminal measurements removed (Qiskit index order).
    pub statevector: StateVector,
}

impl QasmRun {
    /// Counts sorted by decreasing frequency, then bitstring.
    pub fn sorted_counts(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self.counts.iter().map(|(k, &c)| (k.as_str(), c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    }

    /// One `bitstring count` line per outcome, sorted as [`Self::sorted_counts`].
    pub fn format_counts(&self) -> String {
        self.sorted_counts()
            .into_iter()
            .map(|(k, c)| format!("{k} {c}\n"))
            .collect()
    }
}

/// Inserts spaces between classical registers of a flat bitstring (clbit 0 rightmost).
fn split_registers(bits: &str, sizes: &[usize]) -> String {
    if sizes.len() < 2 {
        return bits.to_string();
    }
    let chars: Vec<char> = bits.chars().collect();
    let mut parts = Vec::new();
    let mut end = chars.len();
    for &size in sizes {
        let start = end - size;
        parts.push(chars[start..end].iter().collect::<String>());
        end = start;
    }
    parts.reverse();
    parts.join(" ")
}

/// Parses and runs `source` for the command line: `shots` shots with `seed`, noise profile
/// `noise_profile` (`ideal`, `default` or `warm`), fusion on or off.
pub fn run_qasm_cli(
    source: &str,
    shots: u64,
    seed: u64,
    noise_profile: &str,
    fusion: bool,
) -> Result<QasmRun, QasmError> {
    run_qasm(
        source,
        shots,
        seed,
        noise_profile,
        fusion,
        &QasmLimits::default(),
    )
}

/// [`run_qasm_cli`] within `limits`: the program is parsed within them, then the run is refused
/// (before any state is allocated) when its shots, its memory ([`memory_estimate_bytes`]) or
/// its work ([`work_estimate`]) are over them.
pub fn run_qasm(
    source: &str,
    shots: u64,
    seed: u64,
    noise_profile: &str,
    fusion: bool,
    limits: &QasmLimits,
) -> Result<QasmRun, QasmError> {
    let noise = NoiseModel::from_profile(noise_profile).map_err(|e| QasmError {
        line: 0,
        col: 0,
        msg: e.to_string(),
    })?;
    let program = parse_program_with(source, limits)?;
    check_run(&program.circuit, shots, noise.is_some(), limits)?;
    let result = simulate(
        &program.circuit,
        shots,
        seed,
        noise.as_ref(),
        &SimOptions { fusion },
    );
    let sizes: Vec<usize> = program.cregs.iter().map(|r| r.1).collect();
    let counts = result
        .counts
        .into_iter()
        .map(|(k, c)| (split_registers(&k, &sizes), c))
        .collect();
    Ok(QasmRun {
        program,
        counts,
        statevector: result.statevector,
    })
}

/// Whether a run of `circuit` with `shots` fits `limits` (shots, memory, work).
pub fn check_run(
    circuit: &Circuit,
    shots: u64,
    noisy: bool,
    limits: &QasmLimits,
) -> Result<(), QasmError> {
    let fail = |msg: String| err(0, 0, msg);
    if shots > limits.max_shots {
        return fail(format!(
            "--shots {shots} is over the limit of {} shots",
            limits.max_shots
        ));
    }
    let mem = memory_estimate_bytes(circuit, shots, noisy);
    if mem > limits.max_memory_bytes as u128 {
        return fail(format!(
            "the run needs about {} ({} qubits: {} per state vector; {shots} shots; {} operations), more than the memory limit of {} (see --max-memory)",
            fmt_bytes(mem),
            circuit.num_qubits,
            fmt_bytes_pow2(circuit.num_qubits as u64),
            circuit.ops.len(),
            fmt_bytes(limits.max_memory_bytes as u128)
        ));
    }
    let work = work_estimate(circuit, shots, noisy);
    if work > limits.max_work as u128 {
        let why = if noisy {
            "with noise every shot is a trajectory"
        } else {
            "with mid-circuit measurements or resets every shot is a trajectory"
        };
        return fail(format!(
            "the run would need about {:.3e} amplitude updates (runs × (operations + 1) × 2^{}), over the limit of {:.3e}; {why}: use fewer shots, qubits or operations",
            work as f64, circuit.num_qubits, limits.max_work as f64
        ));
    }
    Ok(())
}

struct Amplitudes<'a>(&'a [Complex64]);

impl Serialize for Amplitudes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for a in self.0 {
            seq.serialize_element(&[a.re, a.im])?;
        }
        seq.end()
    }
}

struct StateJson<'a>(&'a StateVector);

impl Serialize for StateJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("StateVector", 2)?;
        st.serialize_field("num_qubits", &self.0.num_qubits())?;
        st.serialize_field("amplitudes", &Amplitudes(self.0.amplitudes()))?;
        st.end()
    }
}

/// `{"num_qubits": n, "amplitudes": [[re, im], …]}` in Qiskit's index order.
pub fn statevector_json(state: &StateVector) -> serde_json::Value {
    serde_json::to_value(StateJson(state)).expect("finite amplitudes serialize")
}

/// Streams the JSON of [`statevector_json`] to `writer` without building it in memory.
pub fn write_statevector_json<W: io::Write>(state: &StateVector, writer: W) -> io::Result<()> {
    serde_json::to_writer(writer, &StateJson(state)).map_err(io::Error::other)
}
