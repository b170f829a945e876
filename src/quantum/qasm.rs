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
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;

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

fn lex(src: &str) -> Result<Vec<Token>, QasmError> {
    let chars: Vec<char> = src.chars().collect();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    let mut out = Vec::new();
    let advance = |i: &mut usize, line: &mut usize, col: &mut usize, k: usize| {
        for _ in 0..k {
            if chars[*i] == '\n' {
                *line += 1;
                *col = 1;
            } else {
                *col += 1;
            }
            *i += 1;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            advance(&mut i, &mut line, &mut col, 1);
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                advance(&mut i, &mut line, &mut col, 1);
            }
        } else if c == '/' && next == Some('*') {
            let (l0, c0) = (line, col);
            advance(&mut i, &mut line, &mut col, 2);
            loop {
                if i + 1 >= chars.len() {
                    return err(l0, c0, "unterminated comment");
                }
                if chars[i] == '*' && chars[i + 1] == '/' {
                    advance(&mut i, &mut line, &mut col, 2);
                    break;
                }
                advance(&mut i, &mut line, &mut col, 1);
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            let (l0, c0) = (line, col);
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                advance(&mut i, &mut line, &mut col, 1);
            }
            out.push(Token {
                tok: Tok::Ident(chars[start..i].iter().collect()),
                line: l0,
                col: c0,
            });
        } else if c.is_ascii_digit() || (c == '.' && next.is_some_and(|d| d.is_ascii_digit())) {
            let start = i;
            let (l0, c0) = (line, col);
            let mut int = true;
            while i < chars.len() && chars[i].is_ascii_digit() {
                advance(&mut i, &mut line, &mut col, 1);
            }
            if i < chars.len() && chars[i] == '.' {
                int = false;
                advance(&mut i, &mut line, &mut col, 1);
                while i < chars.len() && chars[i].is_ascii_digit() {
                    advance(&mut i, &mut line, &mut col, 1);
                }
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    int = false;
                    let k = j - i;
                    advance(&mut i, &mut line, &mut col, k);
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        advance(&mut i, &mut line, &mut col, 1);
                    }
                }
            }
            let text: String = chars[start..i].iter().collect();
            let value: f64 = match text.parse() {
                Ok(v) => v,
                Err(_) => return err(l0, c0, format!("invalid number '{text}'")),
            };
            out.push(Token {
                tok: Tok::Num(value, int),
                line: l0,
                col: c0,
            });
        } else if c == '"' {
            let (l0, c0) = (line, col);
            advance(&mut i, &mut line, &mut col, 1);
            let start = i;
            while i < chars.len() && chars[i] != '"' && chars[i] != '\n' {
                advance(&mut i, &mut line, &mut col, 1);
            }
            if i >= chars.len() || chars[i] != '"' {
                return err(l0, c0, "unterminated string");
            }
            let s: String = chars[start..i].iter().collect();
            advance(&mut i, &mut line, &mut col, 1);
            out.push(Token {
                tok: Tok::Str(s),
                line: l0,
                col: c0,
            });
        } else {
            let sym = SYMBOLS.iter().find(|s| {
                let mut it = s.chars();
                it.next() == Some(c) && it.next().is_none_or(|d| next == Some(d))
            });
            match sym {
                Some(s) => {
                    out.push(Token {
                        tok: Tok::Sym(s),
                        line,
                        col,
                    });
                    advance(&mut i, &mut line, &mut col, s.len());
                }
                None => return err(line, col, format!("unexpected character '{c}'")),
            }
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        line,
        col,
    });
    Ok(out)
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

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    qregs: Vec<Register>,
    cregs: Vec<Register>,
    gates: HashMap<String, GateDef>,
    ops: Vec<Op>,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }

    fn next(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
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
        let t = self.next();
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

    fn eat_sym(&mut self, s: &'static str) -> bool {
        if self.peek().tok == Tok::Sym(s) {
            self.next();
            true
        } else {
            false
        }
    }

    fn expect_ident(&mut self) -> Result<(String, usize, usize), QasmError> {
        let t = self.next();
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
        let t = self.next();
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

    fn expr(&mut self, names: &[String]) -> Result<Expr, QasmError> {
        let mut e = self.term(names)?;
        loop {
            let op = match self.peek().tok {
                Tok::Sym("+") => '+',
                Tok::Sym("-") => '-',
                _ => return Ok(e),
            };
            self.next();
            e = Expr::Bin(op, Box::new(e), Box::new(self.term(names)?));
        }
    }

    fn term(&mut self, names: &[String]) -> Result<Expr, QasmError> {
        let mut e = self.unary(names)?;
        loop {
            let op = match self.peek().tok {
                Tok::Sym("*") => '*',
                Tok::Sym("/") => '/',
                _ => return Ok(e),
            };
            self.next();
            e = Expr::Bin(op, Box::new(e), Box::new(self.unary(names)?));
        }
    }

    fn unary(&mut self, names: &[String]) -> Result<Expr, QasmError> {
        if self.eat_sym("-") {
            return Ok(Expr::Neg(Box::new(self.unary(names)?)));
        }
        if self.eat_sym("+") {
            return self.unary(names);
        }
        let base = self.primary(names)?;
        if self.eat_sym("^") {
            return Ok(Expr::Bin('^', Box::new(base), Box::new(self.unary(names)?)));
        }
        Ok(base)
    }

    fn primary(&mut self, names: &[String]) -> Result<Expr, QasmError> {
        let t = self.next();
        match t.tok {
            Tok::Num(v, _) => Ok(Expr::Num(v)),
            Tok::Sym("(") => {
                let e = self.expr(names)?;
                self.expect_sym(")")?;
                Ok(e)
            }
            Tok::Ident(name) => {
                let func = match name.as_str() {
                    "pi" => return Ok(Expr::Num(std::f64::consts::PI)),
                    "sin" => Func::Sin,
                    "cos" => Func::Cos,
                    "tan" => Func::Tan,
                    "exp" => Func::Exp,
                    "ln" => Func::Ln,
                    "sqrt" => Func::Sqrt,
                    _ => {
                        return match names.iter().position(|n| *n == name) {
                            Some(k) => Ok(Expr::Param(k)),
                            None => err(t.line, t.col, format!("unknown parameter '{name}'")),
                        };
                    }
                };
                self.expect_sym("(")?;
                let e = self.expr(names)?;
                self.expect_sym(")")?;
                Ok(Expr::Call(func, Box::new(e)))
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
        if self.eat_sym("(") && !self.eat_sym(")") {
            loop {
                params.push(self.expr(names)?);
                if self.eat_sym(")") {
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
            self.next();
            let t = self.next();
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

    fn statement(&mut self) -> Result<(), QasmError> {
        let t = self.next();
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
                let s = self.next();
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
            "qreg" | "creg" => {
                let (name, l, c) = self.expect_ident()?;
                self.expect_sym("[")?;
                let size = self.expect_int()?;
                self.expect_sym("]")?;
                self.expect_sym(";")?;
                if self.qregs.iter().chain(&self.cregs).any(|r| r.name == name) {
                    return err(l, c, format!("register '{name}' is already declared"));
                }
                let regs = if word == "qreg" {
                    &mut self.qregs
                } else {
                    &mut self.cregs
                };
                let offset = regs.iter().map(|r| r.size).sum();
                regs.push(Register { name, offset, size });
                Ok(())
            }
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
                    self.ops.push(Op::Measure { qubit, clbit });
                }
                Ok(())
            }
            "reset" => {
                let q = self.arg(true)?;
                self.expect_sym(";")?;
                for qubit in q.bits {
                    self.ops.push(Op::Reset { qubit });
                }
                Ok(())
            }
            "barrier" => {
                let args = self.arg_list()?;
                self.expect_sym(";")?;
                let qubits = args.into_iter().flat_map(|a| a.bits).collect();
                self.ops.push(Op::Barrier { qubits });
                Ok(())
            }
            _ => self.gate_call(word, t.line, t.col),
        }
    }

    /// `name` or `name[index]`, resolved against the quantum or classical registers.
    fn arg(&mut self, quantum: bool) -> Result<Arg, QasmError> {
        let (name, line, col) = self.expect_ident()?;
        let regs = if quantum { &self.qregs } else { &self.cregs };
        let Some(reg) = regs.iter().find(|r| r.name == name).cloned() else {
            let kind = if quantum { "quantum" } else { "classical" };
            return err(line, col, format!("unknown {kind} register '{name}'"));
        };
        if self.eat_sym("[") {
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

    fn arg_list(&mut self) -> Result<Vec<Arg>, QasmError> {
        let mut args = vec![self.arg(true)?];
        while self.eat_sym(",") {
            args.push(self.arg(true)?);
        }
        Ok(args)
    }

    /// Number of parameters and qubits of a gate name, if known.
    fn signature(&self, name: &str) -> Option<(usize, usize)> {
        builtin(name).or_else(|| self.gates.get(name).map(|d| (d.num_params, d.num_qubits)))
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
        if self.signature(&name).is_none() {
            return err(line, col, format!("unknown gate '{name}'"));
        }
        let exprs = self.param_list(&[])?;
        let args = self.arg_list()?;
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
        let def = self.gates[name].clone();
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

    fn ident_list(&mut self) -> Result<Vec<(String, usize, usize)>, QasmError> {
        let mut v = vec![self.expect_ident()?];
        while self.eat_sym(",") {
            v.push(self.expect_ident()?);
        }
        Ok(v)
    }

    fn gate_definition(&mut self) -> Result<(), QasmError> {
        let (name, line, col) = self.expect_ident()?;
        let mut params = Vec::new();
        if self.eat_sym("(") && !self.eat_sym(")") {
            params = self.ident_list()?;
            self.expect_sym(")")?;
        }
        let qargs = self.ident_list()?;
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
        while !self.eat_sym("}") {
            let (word, l, c) = self.expect_ident()?;
            match word.as_str() {
                "barrier" => {
                    let args = self.body_args(&qnames)?;
                    self.expect_sym(";")?;
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
            GateDef {
                num_params: params.len(),
                num_qubits: qargs.len(),
                body,
            },
        );
        Ok(())
    }

    fn body_args(&mut self, qnames: &[String]) -> Result<Vec<usize>, QasmError> {
        let idents = self.ident_list()?;
        idents
            .into_iter()
            .map(|(n, l, c)| match qnames.iter().position(|q| *q == n) {
                Some(k) => Ok(k),
                None => err(l, c, format!("unknown qubit argument '{n}'")),
            })
            .collect()
    }
}

/// Parses an OpenQASM 2.0 program.
pub fn parse_program(source: &str) -> Result<QasmProgram, QasmError> {
    let mut p = Parser {
        toks: lex(source)?,
        pos: 0,
        qregs: Vec::new(),
        cregs: Vec::new(),
        gates: HashMap::new(),
        ops: Vec::new(),
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
    let noise = NoiseModel::from_profile(noise_profile).map_err(|e| QasmError {
        line: 0,
        col: 0,
        msg: e.to_string(),
    })?;
    let program = parse_program(source)?;
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
