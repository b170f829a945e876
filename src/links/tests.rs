use super::handshake::*;
use super::*;

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

#[test]
fn every_scheme_agrees_a_key_and_counts_its_bytes_exactly() {
    for scheme in LinkScheme::ALL {
        let s = handshake(scheme, &mut rng(1), Some([7; 32]), Tamper::None).expect("agrees");
        assert_eq!(s.scheme, scheme);
        assert_eq!(s.bytes, HandshakeBytes::of(scheme));
    }
    // X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem §4): client share 1216 B, server share 1120 B.
    let h = HandshakeBytes::of(LinkScheme::Hybrid);
    assert_eq!((h.client_share, h.server_share), (1216, 1120));
    assert_eq!(h.total(), 1216 + 1120 + 96);
    let c = HandshakeBytes::of(LinkScheme::Classical);
    assert_eq!(c.total(), 32 + 32 + 96);
    let p = HandshakeBytes::of(LinkScheme::PureMlKem);
    assert_eq!(p.total(), 1184 + 1088 + 96);
}

#[test]
fn same_seed_same_key_other_seed_other_key() {
    for scheme in LinkScheme::ALL {
        let a = handshake(scheme, &mut rng(5), Some([1; 32]), Tamper::None).unwrap();
        let b = handshake(scheme, &mut rng(5), Some([1; 32]), Tamper::None).unwrap();
        assert_eq!(a.key_digest(), b.key_digest(), "{scheme:?}");
        let c = handshake(scheme, &mut rng(6), Some([2; 32]), Tamper::None).unwrap();
        assert_ne!(a.key_digest(), c.key_digest(), "{scheme:?}");
    }
}

#[test]
fn tampered_shares_fail_the_key_exchange() {
    for scheme in LinkScheme::ALL {
        for tamper in [Tamper::ClientShare, Tamper::ServerShare] {
            let r = handshake(scheme, &mut rng(3), Some([9; 32]), tamper);
            assert!(
                matches!(r, Err(KexError::KeyConfirmation | KexError::BadShare)),
                "{scheme:?} {tamper:?}: {r:?}"
            );
        }
    }
    // A QKD link whose system delivered no key.
    assert_eq!(
        handshake(LinkScheme::Qkd, &mut rng(3), None, Tamper::None).err(),
        Some(KexError::NoQkdKey)
    );
}

#[test]
fn ml_kem_implicit_rejection_gives_another_key_that_opens_nothing() {
    use ml_kem::ml_kem_768::{Ciphertext, DecapsulationKey, EncapsulationKey};
    use ml_kem::{B32, Decapsulate, KeyExport, Seed};
    let dk = DecapsulationKey::from_seed(Seed::from([3u8; 64]));
    let ek = EncapsulationKey::new(&dk.encapsulation_key().to_bytes()).unwrap();
    let (ct, k) = ek.encapsulate_deterministic(&B32::from([4u8; 32]));
    assert_eq!(dk.decapsulate(&ct), k);
    let mut bad = ct.to_vec();
    bad[100] ^= 0x80;
    let bad = Ciphertext::try_from(bad.as_slice()).unwrap();
    let k_bad = dk.decapsulate(&bad);
    assert_ne!(
        k_bad, k,
        "implicit rejection (FIPS 203 §6.3) returns a pseudo-random key"
    );
    // Records sealed under the right key do not open under the rejected one.
    let mut s = handshake(LinkScheme::PureMlKem, &mut rng(2), None, Tamper::None).unwrap();
    let recs = s.seal_records(b"grid balancing: unit commitment of 8 units");
    let wrong: [u8; 32] = k_bad.as_slice().try_into().unwrap();
    assert!(s.with_key(wrong).open_records(&recs).is_err());
    assert_eq!(
        s.open_records(&recs).unwrap(),
        b"grid balancing: unit commitment of 8 units"
    );
}

#[test]
fn records_round_trip_and_a_changed_byte_fails_the_tag() {
    let mut s = handshake(LinkScheme::Hybrid, &mut rng(8), None, Tamper::None).unwrap();
    let msg: Vec<u8> = (0..40_000u32).map(|i| (i * 7) as u8).collect();
    let recs = s.seal_records(&msg);
    // 40 000 B in records of 16 384: 3 records, 22 B overhead each.
    assert_eq!(recs.len(), 3);
    assert_eq!(recs.iter().map(|r| r.overhead()).sum::<usize>(), 66);
    assert_eq!(record_overhead_bytes(40_000), 66);
    assert_eq!(s.open_records(&recs).unwrap(), msg);
    let mut bad = recs.clone();
    bad[1].sealed[10] ^= 1;
    assert!(
        s.open_records(&bad).is_err(),
        "AES-GCM tag rejects a changed byte"
    );
    let mut bad = recs.clone();
    bad[0].header[4] ^= 1;
    assert!(s.open_records(&bad).is_err(), "the header is authenticated");
}

#[test]
fn latency_terms_add_up_by_hand() {
    // Hybrid, opening the session: RTT 0.1 ms, 1 Gbit/s, payload 10 000 B in 1 record each way.
    let t = LatencyTerms::of(LinkScheme::Hybrid, true, 1e-4, 1e9, 10_000, 44);
    assert_eq!(t.handshake_rtt_s, 1e-4);
    // (1216 + 1120 + 96) B · 8 / 1e9 = 19.456 µs
    assert!((t.handshake_bytes_s - 19.456e-6).abs() < 1e-15);
    assert_eq!(t.handshake_cpu_s, HANDSHAKE_CPU_S[1]);
    // 44 B · 8 / 1e9 = 0.352 µs
    assert!((t.record_bytes_s - 0.352e-6).abs() < 1e-15);
    assert!((t.aead_cpu_s - 10_000.0 * AEAD_S_PER_BYTE).abs() < 1e-18);
    let sum = 1e-4 + 19.456e-6 + HANDSHAKE_CPU_S[1] + 0.352e-6 + 10_000.0 * AEAD_S_PER_BYTE;
    assert!((t.total_s() - sum).abs() < 1e-15);
    // A job within a live session pays only the records.
    let r = LatencyTerms::of(LinkScheme::Hybrid, false, 1e-4, 1e9, 10_000, 44);
    assert_eq!(
        r.handshake_rtt_s + r.handshake_bytes_s + r.handshake_cpu_s,
        0.0
    );
    assert!((r.total_s() - (0.352e-6 + 10_000.0 * AEAD_S_PER_BYTE)).abs() < 1e-18);
}

#[test]
fn qkd_key_rate_decays_with_fibre_and_stops_at_the_limit() {
    let cfg = DataLinks::default();
    // At the reference length: the reference rate.
    assert!((qkd_key_rate_bit_s(&cfg, 10e3) - 13.72e6).abs() < 1e-6);
    // 60 km: 10 dB more loss than at 10 km → a tenth.
    assert!((qkd_key_rate_bit_s(&cfg, 60e3) - 1.372e6).abs() < 1e-3);
    assert_eq!(qkd_key_rate_bit_s(&cfg, 100.1e3), 0.0);
}

#[test]
fn payload_sizes_by_hand() {
    // 6 qubits, depth 10, 1000 shots: request 256 + 16·60 = 1216, result 64 + 1000·1 = 1064.
    assert_eq!(payload_bytes(6, 10, 1000), (1216, 1064));
    // 12 qubits need 2 bytes a shot.
    assert_eq!(payload_bytes(12, 5, 100).1, 64 + 200);
}

/// The CPU cost constants: `cargo test --release --lib links::tests::cpu_benchmark -- --ignored
/// --nocapture` prints the best of 5 runs of 200 handshakes per scheme and the AES-GCM cost.
#[test]
#[ignore]
fn cpu_benchmark() {
    use std::time::Instant;
    let n = 200;
    for scheme in LinkScheme::ALL {
        let mut best = f64::INFINITY;
        for run in 0..5 {
            let mut r = rng(run);
            let t = Instant::now();
            for _ in 0..n {
                handshake(scheme, &mut r, Some([1; 32]), Tamper::None).unwrap();
            }
            best = best.min(t.elapsed().as_secs_f64() / n as f64);
        }
        println!("{scheme:?}: {:.1} µs per handshake", best * 1e6);
    }
    let mut s = handshake(LinkScheme::Hybrid, &mut rng(1), None, Tamper::None).unwrap();
    let msg = vec![5u8; 8192];
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..n {
            let r = s.seal_records(&msg);
            assert!(s.open_records(&r).is_ok());
        }
        best = best.min(t.elapsed().as_secs_f64() / (n * msg.len()) as f64);
    }
    println!("AES-256-GCM seal + open: {:.2} ns per byte", best * 1e9);
}
