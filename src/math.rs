//! Transcendental functions that give the same bits on every platform.
//!
//! `f64::exp`, `ln`, `powf`, `sin`, … call the platform's C library natively (glibc on Linux) and a
//! Rust port of musl's libm on `wasm32`; the two differ in the last bit for some inputs, and a day
//! of simulation then ends ~1e-16 apart. The simulation (everything outside `view` and `cli`) calls
//! these instead: the [`libm`] crate, pure Rust, the same code on every target, so the same scene
//! and seed give a bit-identical report natively and in the browser.
//!
//! Exactly rounded operations need nothing: `+ − × ÷`, `sqrt`, `abs`, `floor`, `round`, `mul_add`,
//! `min`/`max`, and `powi` (the same compiler-rt loop everywhere) stay as they are.
//!
//! Use the [`Det`] extension trait (`x.exp_d()`, `a.powf_d(b)`, …; `_d` for deterministic) and, for
//! [`Complex64`], [`cis`] and [`norm`] in place of `Complex64::cis` and `Complex64::norm` (num-complex
//! calls std's `sin`/`cos`/`hypot`).

use num_complex::Complex64;

/// Deterministic transcendental functions on `f64`: the same result on every platform.
pub trait Det: Copy {
    /// e^x.
    fn exp_d(self) -> Self;
    /// e^x − 1, accurate near 0.
    fn exp_m1_d(self) -> Self;
    /// Natural logarithm.
    fn ln_d(self) -> Self;
    /// Base-10 logarithm.
    fn log10_d(self) -> Self;
    /// x^y.
    fn powf_d(self, y: Self) -> Self;
    /// Cube root.
    fn cbrt_d(self) -> Self;
    /// Sine (radians).
    fn sin_d(self) -> Self;
    /// Cosine (radians).
    fn cos_d(self) -> Self;
    /// (sine, cosine).
    fn sin_cos_d(self) -> (Self, Self);
    /// Tangent (radians).
    fn tan_d(self) -> Self;
    /// Four-quadrant arctangent of `self / x`.
    fn atan2_d(self, x: Self) -> Self;
    /// √(x² + y²) without overflow.
    fn hypot_d(self, y: Self) -> Self;
    /// Arctangent (radians).
    fn atan_d(self) -> Self;
    /// Arcsine (radians).
    fn asin_d(self) -> Self;
    /// Hyperbolic sine.
    fn sinh_d(self) -> Self;
    /// Hyperbolic cosine.
    fn cosh_d(self) -> Self;
    /// Inverse hyperbolic sine.
    fn asinh_d(self) -> Self;
    /// Inverse hyperbolic tangent.
    fn atanh_d(self) -> Self;
}

impl Det for f64 {
    #[inline]
    fn exp_d(self) -> f64 {
        libm::exp(self)
    }
    #[inline]
    fn exp_m1_d(self) -> f64 {
        libm::expm1(self)
    }
    #[inline]
    fn ln_d(self) -> f64 {
        libm::log(self)
    }
    #[inline]
    fn log10_d(self) -> f64 {
        libm::log10(self)
    }
    #[inline]
    fn powf_d(self, y: f64) -> f64 {
        libm::pow(self, y)
    }
    #[inline]
    fn cbrt_d(self) -> f64 {
        libm::cbrt(self)
    }
    #[inline]
    fn sin_d(self) -> f64 {
        libm::sin(self)
    }
    #[inline]
    fn cos_d(self) -> f64 {
        libm::cos(self)
    }
    #[inline]
    fn sin_cos_d(self) -> (f64, f64) {
        libm::sincos(self)
    }
    #[inline]
    fn tan_d(self) -> f64 {
        libm::tan(self)
    }
    #[inline]
    fn atan2_d(self, x: f64) -> f64 {
        libm::atan2(self, x)
    }
    #[inline]
    fn hypot_d(self, y: f64) -> f64 {
        libm::hypot(self, y)
    }
    #[inline]
    fn atan_d(self) -> f64 {
        libm::atan(self)
    }
    #[inline]
    fn asin_d(self) -> f64 {
        libm::asin(self)
    }
    #[inline]
    fn sinh_d(self) -> f64 {
        libm::sinh(self)
    }
    #[inline]
    fn cosh_d(self) -> f64 {
        libm::cosh(self)
    }
    #[inline]
    fn asinh_d(self) -> f64 {
        libm::asinh(self)
    }
    #[inline]
    fn atanh_d(self) -> f64 {
        libm::atanh(self)
    }
}

/// e^{iθ} = cos θ + i sin θ (for `Complex64::cis`).
#[inline]
pub fn cis(theta: f64) -> Complex64 {
    let (s, c) = theta.sin_cos_d();
    Complex64::new(c, s)
}

/// |z| (for `Complex64::norm`).
#[inline]
pub fn norm(z: Complex64) -> f64 {
    z.re.hypot_d(z.im)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exact cases and the identities the simulation relies on (libm's exp(1) is 1 ulp above `E`).
    #[test]
    fn libm_results() {
        assert!((1.0f64.exp_d() - std::f64::consts::E).abs() <= 2.0 * f64::EPSILON);
        assert_eq!(0.0f64.ln_d(), f64::NEG_INFINITY);
        assert_eq!(1000.0f64.log10_d(), 3.0);
        assert_eq!(2.0f64.powf_d(10.0), 1024.0);
        assert_eq!(27.0f64.cbrt_d(), 3.0);
        assert_eq!(3.0f64.hypot_d(4.0), 5.0);
        let (s, c) = 0.5f64.sin_cos_d();
        assert_eq!((s, c), (0.5f64.sin_d(), 0.5f64.cos_d()));
        assert_eq!(cis(0.0), Complex64::new(1.0, 0.0));
        assert_eq!(norm(Complex64::new(3.0, 4.0)), 5.0);
    }
}
