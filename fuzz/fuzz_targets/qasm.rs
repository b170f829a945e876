//! The OpenQASM reader and simulator on arbitrary bytes, within a small budget (256 KiB of state,
//! 5,000 operations, 10^7 amplitude updates): `run_qasm` must return counts or an error, never
//! panic, overflow the stack or exhaust memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qtwin::quantum::qasm::{QasmLimits, run_qasm};

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let limits = QasmLimits {
            max_memory_bytes: 256 << 10,
            max_ops: 5_000,
            max_work: 10_000_000,
            ..Default::default()
        };
        let _ = run_qasm(src, 16, 1, "ideal", true, &limits);
    }
});
