//! The key exchanges and the payload protection, really performed: X25519 (`x25519-dalek`),
//! ML-KEM-768 (`ml-kem`, FIPS 203), their hybrid, a QKD-delivered key, and AES-256-GCM records
//! (`aes-gcm`).
//!
//! A handshake between the service (client) and the site (server):
//! 1. the client sends its key share: an X25519 public key (32 B), an ML-KEM-768 encapsulation
//!    key (1184 B), both (X25519MLKEM768: 1216 B, ML-KEM first), or a QKD key id (16 B);
//! 2. the server checks it (`EncapsulationKey::new` rejects a malformed ML-KEM key), answers with
//!    its share: X25519 public key (32 B), ML-KEM ciphertext (1088 B), both (1120 B), or the key id
//!    back (16 B), and derives the shared secret;
//! 3. both derive `k = SHA-256("qtwin link v1" ‖ secret ‖ SHA-256(client share ‖ server share))`
//!    (a simplified TLS 1.3 key schedule: one hash instead of HKDF; secrets concatenated ML-KEM
//!    first, as draft-ietf-tls-ecdhe-mlkem);
//! 4. each side sends a Finished message: the transcript hash sealed with AES-256-GCM under its
//!    key (32 B + 16 B tag); the other side opens it with its own key. A tampered share gives the
//!    two sides different keys (X25519: another point; ML-KEM: implicit rejection, FIPS 203
//!    §6.3, returns a pseudo-random key) and the Finished tag fails: the key exchange fails.
//!
//! Bytes counted: both shares and both Finished messages (ciphertext and tag). Certificates and
//! signatures are the same for every scheme here (classical signatures; post-quantum signatures
//! are out of scope) and are not counted; neither is TCP/IP framing.
//!
//! The payload goes in TLS-sized records: at most 16 384 B of plaintext each, sealed with
//! AES-256-GCM (96-bit nonce from a per-session record counter, the 5-byte record header as
//! associated data), 22 B of overhead per record (5 header + 1 content type + 16 tag,
//! RFC 8446 §5.2).

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use ml_kem::ml_kem_768::{Ciphertext, DecapsulationKey, EncapsulationKey};
use ml_kem::{B32, Decapsulate, KeyExport, Seed};
use rand::RngCore;
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};
use x25519_dalek::{PublicKey, StaticSecret};

use crate::scene::LinkScheme;

/// ML-KEM-768 encapsulation key, B (FIPS 203 Table 3).
pub const MLKEM768_EK_BYTES: usize = 1184;
/// ML-KEM-768 ciphertext, B.
pub const MLKEM768_CT_BYTES: usize = 1088;
/// X25519 public key, B (RFC 7748).
pub const X25519_BYTES: usize = 32;
/// QKD key id (a UUID, ETSI GS QKD 014), B.
pub const QKD_KEY_ID_BYTES: usize = 16;
/// A Finished message: 32-byte transcript hash sealed with a 16-byte GCM tag.
pub const FINISHED_BYTES: usize = 32 + 16;
/// Plaintext bytes per record (RFC 8446 §5.1).
pub const RECORD_PLAINTEXT_BYTES: usize = 16_384;
/// Overhead per record: header, content type, GCM tag (RFC 8446 §5.2).
pub const RECORD_OVERHEAD_BYTES: usize = 5 + 1 + 16;

/// Bytes a handshake put on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct HandshakeBytes {
    pub client_share: usize,
    pub server_share: usize,
    /// Both Finished messages.
    pub finished: usize,
}

impl HandshakeBytes {
    pub fn total(&self) -> usize {
        self.client_share + self.server_share + self.finished
    }
    /// What a handshake of `scheme` puts on the wire (what [`handshake`] counts).
    pub fn of(scheme: LinkScheme) -> Self {
        let (c, s) = match scheme {
            LinkScheme::Classical => (X25519_BYTES, X25519_BYTES),
            LinkScheme::Hybrid => (
                MLKEM768_EK_BYTES + X25519_BYTES,
                MLKEM768_CT_BYTES + X25519_BYTES,
            ),
            LinkScheme::PureMlKem => (MLKEM768_EK_BYTES, MLKEM768_CT_BYTES),
            LinkScheme::Qkd => (QKD_KEY_ID_BYTES, QKD_KEY_ID_BYTES),
        };
        Self {
            client_share: c,
            server_share: s,
            finished: 2 * FINISHED_BYTES,
        }
    }
}

/// Why a key exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum KexError {
    /// The server refused the client's share (a malformed ML-KEM encapsulation key).
    BadShare,
    /// A Finished message did not open: the two sides derived different keys.
    KeyConfirmation,
    /// The QKD system delivered no key.
    NoQkdKey,
}

/// Something in the path that changes a message (for tests and injected faults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tamper {
    #[default]
    None,
    /// One bit of the client's share flipped in transit (byte `0`).
    ClientShare,
    /// One bit of the server's share flipped in transit: for ML-KEM, the ciphertext.
    ServerShare,
}

/// An agreed session: the key both sides hold and the record counter.
#[derive(Clone)]
pub struct Session {
    pub scheme: LinkScheme,
    pub bytes: HandshakeBytes,
    key: [u8; 32],
    records: u64,
}

impl std::fmt::Debug for Session {
    // The key is not written out; its hash is (so equal sessions describe equally).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("scheme", &self.scheme)
            .field("bytes", &self.bytes)
            .field("key_sha256", &hex8(&Sha256::digest(self.key)))
            .field("records", &self.records)
            .finish()
    }
}

fn hex8(b: &[u8]) -> String {
    b.iter().take(8).map(|x| format!("{x:02x}")).collect()
}

fn random<const N: usize>(rng: &mut ChaCha20Rng) -> [u8; N] {
    let mut b = [0u8; N];
    rng.fill_bytes(&mut b);
    b
}

fn derive(secret: &[u8], transcript: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"qtwin link v1");
    h.update(secret);
    h.update(transcript);
    h.finalize().into()
}

fn nonce(counter: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_be_bytes());
    n
}

fn flip(b: &mut [u8]) {
    if let Some(x) = b.first_mut() {
        *x ^= 0x01;
    }
}

/// Performs a key exchange of `scheme` with randomness from `rng` (for QKD, `qkd_key` is the key
/// the QKD system delivered to both ends, `None` when it has none). See the module doc.
pub fn handshake(
    scheme: LinkScheme,
    rng: &mut ChaCha20Rng,
    qkd_key: Option<[u8; 32]>,
    tamper: Tamper,
) -> Result<Session, KexError> {
    // Client: its secrets and share.
    let x_secret = StaticSecret::from(random::<32>(rng));
    let uses_x = matches!(scheme, LinkScheme::Classical | LinkScheme::Hybrid);
    let uses_kem = matches!(scheme, LinkScheme::Hybrid | LinkScheme::PureMlKem);
    let dk = uses_kem.then(|| DecapsulationKey::from_seed(Seed::from(random::<64>(rng))));
    let key_id = random::<QKD_KEY_ID_BYTES>(rng);
    let mut client_share: Vec<u8> = Vec::new();
    if let Some(dk) = &dk {
        client_share.extend_from_slice(&dk.encapsulation_key().to_bytes());
    }
    if uses_x {
        client_share.extend_from_slice(PublicKey::from(&x_secret).as_bytes());
    }
    if scheme == LinkScheme::Qkd {
        client_share.extend_from_slice(&key_id);
    }
    if tamper == Tamper::ClientShare {
        flip(&mut client_share);
    }

    // Server: reads the share, answers, derives its secret.
    let mut server_share: Vec<u8> = Vec::new();
    let mut server_secret: Vec<u8> = Vec::new();
    let mut rest: &[u8] = &client_share;
    if uses_kem {
        let (ek_bytes, r) = rest.split_at(MLKEM768_EK_BYTES);
        rest = r;
        let ek_arr = ml_kem::array::Array::try_from(ek_bytes).map_err(|_| KexError::BadShare)?;
        let ek = EncapsulationKey::new(&ek_arr).map_err(|_| KexError::BadShare)?;
        let (ct, ss) = ek.encapsulate_deterministic(&B32::from(random::<32>(rng)));
        server_share.extend_from_slice(&ct);
        server_secret.extend_from_slice(&ss);
    }
    let y_secret = StaticSecret::from(random::<32>(rng));
    if uses_x {
        let peer: [u8; 32] = rest[..X25519_BYTES]
            .try_into()
            .map_err(|_| KexError::BadShare)?;
        server_share.extend_from_slice(PublicKey::from(&y_secret).as_bytes());
        server_secret.extend_from_slice(y_secret.diffie_hellman(&PublicKey::from(peer)).as_bytes());
    }
    let qkd = if scheme == LinkScheme::Qkd {
        let k = qkd_key.ok_or(KexError::NoQkdKey)?;
        server_share.extend_from_slice(&rest[..QKD_KEY_ID_BYTES]);
        // The key store hands out the key of the id it was asked for: another id, another key.
        let asked_for_ours = rest[..QKD_KEY_ID_BYTES] == key_id;
        server_secret.extend_from_slice(&if asked_for_ours {
            k
        } else {
            Sha256::digest(rest).into()
        });
        Some(k)
    } else {
        None
    };
    if tamper == Tamper::ServerShare {
        flip(&mut server_share);
    }

    // Client: reads the answer, derives its secret.
    let mut client_secret: Vec<u8> = Vec::new();
    let mut rest: &[u8] = &server_share;
    if let Some(dk) = &dk {
        let (ct_bytes, r) = rest.split_at(MLKEM768_CT_BYTES);
        rest = r;
        let ct = Ciphertext::try_from(ct_bytes).map_err(|_| KexError::BadShare)?;
        client_secret.extend_from_slice(&dk.decapsulate(&ct));
    }
    if uses_x {
        let peer: [u8; 32] = rest[..X25519_BYTES]
            .try_into()
            .map_err(|_| KexError::BadShare)?;
        client_secret.extend_from_slice(x_secret.diffie_hellman(&PublicKey::from(peer)).as_bytes());
    }
    if let Some(k) = qkd {
        // The server must echo the id the client asked for; the client's key is that id's.
        if rest[..QKD_KEY_ID_BYTES] != key_id {
            return Err(KexError::BadShare);
        }
        client_secret.extend_from_slice(&k);
    }

    // Keys and key confirmation.
    let transcript: [u8; 32] = {
        let mut h = Sha256::new();
        h.update(&client_share);
        h.update(&server_share);
        h.finalize().into()
    };
    let k_server = derive(&server_secret, &transcript);
    let k_client = derive(&client_secret, &transcript);
    let fin_s = seal(&k_server, 0, b"server finished", &transcript);
    open(&k_client, 0, b"server finished", &fin_s).map_err(|_| KexError::KeyConfirmation)?;
    let fin_c = seal(&k_client, 1, b"client finished", &transcript);
    open(&k_server, 1, b"client finished", &fin_c).map_err(|_| KexError::KeyConfirmation)?;
    Ok(Session {
        scheme,
        bytes: HandshakeBytes {
            client_share: client_share.len(),
            server_share: server_share.len(),
            finished: fin_s.len() + fin_c.len(),
        },
        key: k_client,
        // Nonces 0 and 1 went to the Finished messages.
        records: 2,
    })
}

fn seal(key: &[u8; 32], counter: u64, aad: &[u8], msg: &[u8]) -> Vec<u8> {
    Aes256Gcm::new(key.into())
        .encrypt(&nonce(counter).into(), Payload { msg, aad })
        .expect("AES-GCM seals any message under 64 GiB")
}

fn open(key: &[u8; 32], counter: u64, aad: &[u8], ct: &[u8]) -> Result<Vec<u8>, aes_gcm::Error> {
    Aes256Gcm::new(key.into()).decrypt(&nonce(counter).into(), Payload { msg: ct, aad })
}

/// One sealed record as it goes on the wire: the record header (associated data) and the
/// ciphertext with its tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub header: [u8; 5],
    pub counter: u64,
    pub sealed: Vec<u8>,
}

impl Record {
    /// Bytes on the wire beyond the plaintext's own.
    pub fn overhead(&self) -> usize {
        // The content-type byte is inside the sealed part (RFC 8446 §5.2).
        self.header.len() + self.sealed.len() - (self.sealed.len() - 16 - 1)
    }
}

impl Session {
    /// Seals `plaintext` into records of at most [`RECORD_PLAINTEXT_BYTES`].
    pub fn seal_records(&mut self, plaintext: &[u8]) -> Vec<Record> {
        plaintext
            .chunks(RECORD_PLAINTEXT_BYTES)
            .map(|chunk| {
                let mut inner = chunk.to_vec();
                inner.push(23); // content type: application data
                let len = (inner.len() + 16) as u16;
                let header = [23, 3, 3, (len >> 8) as u8, len as u8];
                let counter = self.records;
                self.records += 1;
                Record {
                    header,
                    counter,
                    sealed: seal(&self.key, counter, &header, &inner),
                }
            })
            .collect()
    }
    /// Advances the record counter past `n` records sent without being sealed here (their
    /// nonces stay unused by anything sealed later).
    pub fn skip_records(&mut self, n: u64) {
        self.records += n;
    }
    /// Opens records sealed by [`Self::seal_records`] with this session's key; `Err` when a tag
    /// fails (a changed byte, another key).
    pub fn open_records(&self, records: &[Record]) -> Result<Vec<u8>, aes_gcm::Error> {
        let mut out = Vec::new();
        for r in records {
            let mut inner = open(&self.key, r.counter, &r.header, &r.sealed)?;
            inner.pop();
            out.extend_from_slice(&inner);
        }
        Ok(out)
    }
    /// A session with another key (what a peer holds after a key exchange that went wrong).
    #[doc(hidden)]
    pub fn with_key(&self, key: [u8; 32]) -> Self {
        Self {
            key,
            ..self.clone()
        }
    }
    /// SHA-256 of the key (the key itself never leaves the session).
    pub fn key_digest(&self) -> [u8; 32] {
        Sha256::digest(self.key).into()
    }
}

/// Bytes a payload of `plaintext` bytes adds in record overhead.
pub fn record_overhead_bytes(plaintext: usize) -> usize {
    plaintext.div_ceil(RECORD_PLAINTEXT_BYTES).max(1) * RECORD_OVERHEAD_BYTES
}
