//! TLS as Redis 7.0 configures it, with rustls: one context built from the `tls-*`
//! directives holds the acceptor for `tls-port` clients and the connector a replica uses
//! for its master (`tls-replication`) and MIGRATE for its targets (`tls-cluster`). Building is all or nothing, so CONFIG SET either
//! installs a complete new context or leaves the running one untouched (Redis's
//! `tlsConfigure`), and connections already open keep the context they started with.
//!
//! Differences from Redis's OpenSSL build, each because rustls offers only modern TLS:
//! TLSv1 and TLSv1.1 are never offered; TLS 1.2 suites are the AEAD ECDHE ones (CBC and
//! plain-RSA suites such as `AES128-SHA256` do not exist here); key exchange is ECDHE, so
//! `tls-dh-params-file` is only checked to be readable. As in Redis, a replica verifies its
//! master's certificate chain against the CA but not the host name in it.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{
    CertificateError, CipherSuite, DigitallySignedStruct, RootCertStore, SignatureScheme,
    SupportedProtocolVersion,
};

use crate::config::{TlsAuthClients, TlsSettings};

/// How long a client may take over its TLS handshake before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Redis's reply to a CONFIG SET whose TLS settings cannot be applied.
pub const UPDATE_FAILED: &str = "Unable to update TLS configuration. Check server logs.";

/// A complete TLS configuration: what `tls-port` accepts with and what the replication
/// link connects with.
#[derive(Clone)]
pub struct Context {
    /// Handshakes of clients on `tls-port`.
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// Handshakes with a master (`tls-replication`).
    pub connector: tokio_rustls::TlsConnector,
    /// The same client side for blocking connections: MIGRATE's to its targets
    /// (`tls-cluster`, as Redis's MIGRATE connects with the cluster bus's connection type).
    pub client: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tls::Context")
    }
}

/// Builds the context from `settings`, or says (as the log line Redis writes) why not.
pub fn build(settings: &TlsSettings) -> Result<Context, String> {
    if settings.cert_file.is_empty() {
        return Err("No tls-cert-file configured!".into());
    }
    if settings.key_file.is_empty() {
        return Err("No tls-key-file configured!".into());
    }
    let needs_ca =
        settings.auth_clients != TlsAuthClients::No || settings.replication || settings.cluster;
    if needs_ca && settings.ca_cert_file.is_empty() && settings.ca_cert_dir.is_empty() {
        return Err("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!".into());
    }
    let versions = protocols(&settings.protocols)?;
    let provider = Arc::new(provider(settings)?);
    let roots = Arc::new(roots(settings)?);
    if !settings.dh_params_file.is_empty() {
        check_dh_params(&settings.dh_params_file)?;
    }

    let cert = certificates(&settings.cert_file)?;
    let key = private_key(&settings.key_file, &settings.key_file_pass)?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| format!("Failed to configure protocols: {e}"))?;
    let builder = match settings.auth_clients {
        TlsAuthClients::No => builder.with_no_client_auth(),
        mode => {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone());
            let verifier = if mode == TlsAuthClients::Optional {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier.build().map_err(|e| {
                format!("Failed to configure CA certificate(s) file/directory: {e}")
            })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let identity = certified_key(&provider, cert, key, &settings.key_file)?;
    let mut server = builder.with_cert_resolver(identity.clone());
    server.ignore_client_order = settings.prefer_server_ciphers;
    if settings.session_caching && settings.session_cache_size > 0 {
        server.session_storage = Arc::new(SessionCache::new(
            settings.session_cache_size as usize,
            std::time::Duration::from_secs(settings.session_cache_timeout),
        ));
    } else {
        server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        server.send_tls13_tickets = 0;
    }

    // The replication link shows tls-client-cert-file, or the server certificate when
    // there is none (Redis's rule).
    let client_identity = if settings.client_cert_file.is_empty() {
        identity
    } else {
        if settings.client_key_file.is_empty() {
            return Err("No tls-client-key-file configured!".into());
        }
        certified_key(
            &provider,
            certificates(&settings.client_cert_file)?,
            private_key(&settings.client_key_file, &settings.client_key_file_pass)?,
            &settings.client_key_file,
        )?
    };
    let chain = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|e| format!("Failed to configure CA certificate(s) file/directory: {e}"));
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| format!("Failed to configure protocols: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ChainOnly(chain)))
        .with_client_cert_resolver(client_identity);
    let client = Arc::new(client);
    Ok(Context {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
        connector: tokio_rustls::TlsConnector::from(client.clone()),
        client,
    })
}

/// A certificate chain with its private key, checked to belong together where the
/// certificate can be read. An X.509 v1 certificate (what `openssl x509 -req` writes without
/// extensions) cannot be read by webpki, but OpenSSL peers accept it, so it is served as is.
fn certified_key(
    provider: &CryptoProvider,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    key_file: &str,
) -> Result<Arc<SingleCertAndKey>, String> {
    let fail = |e: String| format!("Failed to load private key: {key_file}: {e}");
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| fail(e.to_string()))?;
    let certified = CertifiedKey::new(chain, signing);
    if let Err(e @ rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
        certified.keys_match()
    {
        return Err(fail(e.to_string()));
    }
    Ok(Arc::new(SingleCertAndKey::from(certified)))
}

/// The control plane's HTTPS acceptor (`http-tls-*`): its own certificate, HTTP/1.1 by
/// ALPN, client certificates required when `http-tls-ca-cert-file` is set.
pub fn build_http(settings: &TlsSettings) -> Result<HttpAcceptor, String> {
    if settings.http_cert_file.is_empty() {
        return Err("No http-tls-cert-file configured!".into());
    }
    if settings.http_key_file.is_empty() {
        return Err("No http-tls-key-file configured!".into());
    }
    #[allow(deprecated)] // ring, as for RESP (see `provider`)
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?;
    let builder = if settings.http_ca_cert_file.is_empty() {
        builder.with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        for cert in certificates(&settings.http_ca_cert_file)? {
            roots.add(cert).map_err(|e| e.to_string())?;
        }
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| format!("Failed to configure http-tls-ca-cert-file: {e}"))?;
        builder.with_client_cert_verifier(verifier)
    };
    let identity = certified_key(
        &provider,
        certificates(&settings.http_cert_file)?,
        private_key(&settings.http_key_file, "")?,
        &settings.http_key_file,
    )?;
    let mut config = builder.with_cert_resolver(identity);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(HttpAcceptor(tokio_rustls::TlsAcceptor::from(Arc::new(
        config,
    ))))
}

/// The control plane's HTTPS acceptor.
#[derive(Clone)]
pub struct HttpAcceptor(pub tokio_rustls::TlsAcceptor);

impl std::fmt::Debug for HttpAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tls::HttpAcceptor")
    }
}

/// The name a replica puts in its ClientHello for `host` (an IP address or a DNS name; a
/// host that is neither still connects, since names are not verified).
pub fn server_name(host: &str) -> ServerName<'static> {
    ServerName::try_from(host.to_string())
        .unwrap_or_else(|_| ServerName::try_from("localhost").expect("a valid DNS name"))
}

/// `tls-protocols` as rustls versions: Redis's names, any case, space-separated.
fn protocols(text: &str) -> Result<Vec<&'static SupportedProtocolVersion>, String> {
    if text.trim().is_empty() {
        return Ok(vec![&rustls::version::TLS13, &rustls::version::TLS12]);
    }
    let mut versions = Vec::new();
    for token in text.split(' ').filter(|t| !t.is_empty()) {
        match token.to_ascii_lowercase().as_str() {
            "tlsv1.2" => versions.push(&rustls::version::TLS12),
            "tlsv1.3" => versions.push(&rustls::version::TLS13),
            "tlsv1" | "tlsv1.1" => {
                tracing::warn!("{token} is not offered (insecure, and not supported by rustls)")
            }
            _ => {
                return Err("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.".into())
            }
        }
    }
    if versions.is_empty() {
        return Err("tls-protocols names no protocol this server offers (TLSv1.2, TLSv1.3)".into());
    }
    Ok(versions)
}

/// The TLS 1.2 suites, under OpenSSL's names (`tls-ciphers`).
const TLS12_NAMES: &[(&str, CipherSuite)] = &[
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
];

/// The TLS 1.3 suites, under their standard names (`tls-ciphersuites`).
const TLS13_NAMES: &[(&str, CipherSuite)] = &[
    (
        "TLS_AES_128_GCM_SHA256",
        CipherSuite::TLS13_AES_128_GCM_SHA256,
    ),
    (
        "TLS_AES_256_GCM_SHA384",
        CipherSuite::TLS13_AES_256_GCM_SHA384,
    ),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    ),
];

/// ring's provider with the suites `tls-ciphers` and `tls-ciphersuites` allow, in the
/// order they name them.
fn provider(settings: &TlsSettings) -> Result<CryptoProvider, String> {
    // ring has no post-quantum key exchange (hence rustls's deprecation note); neither has
    // the OpenSSL 3.0 that Redis 7.0 builds with, and aws-lc-rs would need cmake.
    #[allow(deprecated)]
    let mut provider = rustls::crypto::ring::default_provider();
    let all = provider.cipher_suites.clone();
    let tls12 = select(&settings.ciphers, TLS12_NAMES)
        .map_err(|()| format!("Failed to configure ciphers: {}", settings.ciphers))?;
    let tls13 = select(&settings.ciphersuites, TLS13_NAMES).map_err(|()| {
        format!(
            "Failed to configure ciphersuites: {}",
            settings.ciphersuites
        )
    })?;
    let is13 = |s: &rustls::SupportedCipherSuite| s.version() == &rustls::version::TLS13;
    let mut chosen = Vec::new();
    for (wanted, want13) in [(tls13, true), (tls12, false)] {
        match wanted {
            None => chosen.extend(all.iter().filter(|s| is13(s) == want13).cloned()),
            Some(names) => chosen.extend(
                names
                    .iter()
                    .filter_map(|n| all.iter().find(|s| s.suite() == *n).cloned()),
            ),
        }
    }
    provider.cipher_suites = chosen;
    Ok(provider)
}

/// The suites a cipher list names, in its order: `None` when it keeps the defaults (empty,
/// or only OpenSSL's group keywords such as `DEFAULT` or `HIGH`), `Err` when it names
/// suites of which none exists here (OpenSSL's "no cipher match").
fn select(list: &str, names: &[(&str, CipherSuite)]) -> Result<Option<Vec<CipherSuite>>, ()> {
    let mut picked = Vec::new();
    let mut excluded = Vec::new();
    let mut named_any = false;
    for token in list.split([':', ',', ' ']).filter(|t| !t.is_empty()) {
        let (negated, name) = match token.strip_prefix(['!', '-']) {
            Some(rest) => (true, rest),
            None => (false, token.strip_prefix('+').unwrap_or(token)),
        };
        let found = names
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, s)| *s);
        match (found, negated) {
            (Some(suite), false) => {
                named_any = true;
                if !picked.contains(&suite) {
                    picked.push(suite);
                }
            }
            (Some(suite), true) => excluded.push(suite),
            // A suite rustls lacks, or a keyword: a name that looks like a suite (has a
            // dash or an underscore) counts as asked for.
            (None, false) => named_any |= name.contains(['-', '_']),
            (None, true) => {}
        }
    }
    if !named_any {
        if excluded.is_empty() {
            return Ok(None);
        }
        let rest: Vec<CipherSuite> = names
            .iter()
            .map(|(_, s)| *s)
            .filter(|s| !excluded.contains(s))
            .collect();
        return if rest.is_empty() {
            Err(())
        } else {
            Ok(Some(rest))
        };
    }
    picked.retain(|s| !excluded.contains(s));
    if picked.is_empty() {
        Err(())
    } else {
        Ok(Some(picked))
    }
}

/// Every CA certificate of `tls-ca-cert-file` and the PEM files of `tls-ca-cert-dir`.
fn roots(settings: &TlsSettings) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    let fail = |e: String| format!("Failed to configure CA certificate(s) file/directory: {e}");
    if !settings.ca_cert_file.is_empty() {
        for cert in certificates(&settings.ca_cert_file).map_err(fail)? {
            store.add(cert).map_err(|e| fail(e.to_string()))?;
        }
    }
    if !settings.ca_cert_dir.is_empty() {
        let entries = std::fs::read_dir(&settings.ca_cert_dir)
            .map_err(|e| fail(format!("{}: {e}", settings.ca_cert_dir)))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_file() {
                continue;
            }
            // Hash links and other files that hold no certificate are passed over.
            let Ok(iter) = CertificateDer::pem_file_iter(&path) else {
                continue;
            };
            for cert in iter.flatten() {
                let _ = store.add(cert);
            }
        }
    }
    Ok(store)
}

/// The certificates of a PEM file (a chain: leaf first).
fn certificates(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let fail = |e: String| format!("Failed to load certificate: {path}: {e}");
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| fail(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| fail(e.to_string()))?;
    if certs.is_empty() {
        return Err(fail("no certificate in the file".into()));
    }
    Ok(certs)
}

/// The private key of a PEM file; an encrypted PKCS#8 key (`ENCRYPTED PRIVATE KEY`, what
/// `openssl rsa -aes256` writes) is decrypted with `pass`.
fn private_key(path: &str, pass: &str) -> Result<PrivateKeyDer<'static>, String> {
    let fail = |e: String| format!("Failed to load private key: {path}: {e}");
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        if pass.is_empty() {
            return Err(fail("the key is encrypted and no passphrase is set".into()));
        }
        let start = text
            .find("-----BEGIN ENCRYPTED PRIVATE KEY-----")
            .unwrap_or(0);
        let (_, document) =
            pkcs8::SecretDocument::from_pem(&text[start..]).map_err(|e| fail(e.to_string()))?;
        let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(document.as_bytes())
            .map_err(|e| fail(e.to_string()))?;
        let plain = encrypted
            .decrypt(pass)
            .map_err(|_| fail("bad decrypt (wrong passphrase?)".into()))?;
        return Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            plain.as_bytes().to_vec(),
        )));
    }
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(fail(
            "legacy PEM encryption is not supported; convert the key with `openssl pkcs8 -topk8`"
                .into(),
        ));
    }
    PrivateKeyDer::from_pem_slice(text.as_bytes()).map_err(|e| fail(e.to_string()))
}

/// `tls-dh-params-file` must be a readable PEM block of DH parameters, as Redis requires,
/// though ECDHE key exchange does not use them.
fn check_dh_params(path: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(Path::new(path))
        .map_err(|e| format!("Failed to load {path}: {e}"))?;
    if !text.contains("-----BEGIN DH PARAMETERS-----")
        && !text.contains("-----BEGIN X9.42 DH PARAMETERS-----")
    {
        return Err(format!("{path}: failed to read DH params."));
    }
    Ok(())
}

/// Sessions kept for resumption, as OpenSSL's server cache under
/// `tls-session-cache-size` and `tls-session-cache-timeout`: at most `capacity` sessions
/// (the oldest make room), none resumed after `timeout`.
#[derive(Debug)]
struct SessionCache {
    capacity: usize,
    timeout: std::time::Duration,
    entries: parking_lot::Mutex<SessionEntries>,
}

#[derive(Debug, Default)]
struct SessionEntries {
    by_id: std::collections::HashMap<Vec<u8>, (Vec<u8>, std::time::Instant)>,
    /// Ids in insertion order (stale ids of removed sessions are skipped on eviction).
    order: std::collections::VecDeque<Vec<u8>>,
}

impl SessionCache {
    fn new(capacity: usize, timeout: std::time::Duration) -> SessionCache {
        SessionCache {
            capacity,
            timeout,
            entries: parking_lot::Mutex::new(SessionEntries::default()),
        }
    }

    fn fresh(&self, stored: std::time::Instant) -> bool {
        stored.elapsed() < self.timeout
    }
}

impl rustls::server::StoresServerSessions for SessionCache {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        let mut e = self.entries.lock();
        while e.by_id.len() >= self.capacity {
            let Some(oldest) = e.order.pop_front() else {
                break;
            };
            e.by_id.remove(&oldest);
        }
        if e.order.len() > 2 * self.capacity {
            let SessionEntries { by_id, order } = &mut *e;
            order.retain(|id| by_id.contains_key(id));
        }
        e.order.push_back(key.clone());
        e.by_id.insert(key, (value, std::time::Instant::now()));
        true
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let e = self.entries.lock();
        e.by_id
            .get(key)
            .filter(|(_, at)| self.fresh(*at))
            .map(|(v, _)| v.clone())
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let mut e = self.entries.lock();
        e.by_id
            .remove(key)
            .filter(|(_, at)| self.fresh(*at))
            .map(|(v, _)| v)
    }

    fn can_cache(&self) -> bool {
        true
    }
}

/// A master's certificate is checked as Redis checks it: signed by the CA and valid now,
/// whatever host name it carries.
#[derive(Debug)]
struct ChainOnly(Result<Arc<WebPkiServerVerifier>, String>);

impl ChainOnly {
    fn inner(&self) -> Result<&WebPkiServerVerifier, rustls::Error> {
        self.0
            .as_deref()
            .map_err(|e| rustls::Error::General(e.clone()))
    }
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner()
            .map(|v| v.supported_verify_schemes())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_follow_redis_names() {
        assert_eq!(protocols("").map(|v| v.len()), Ok(2));
        assert_eq!(protocols("TLSv1.2").map(|v| v.len()), Ok(1));
        assert_eq!(protocols("tlsv1.2 TLSv1.3").map(|v| v.len()), Ok(2));
        assert!(protocols("TLSv1.1").is_err(), "nothing left to offer");
        assert_eq!(protocols("TLSv1.1 TLSv1.3").map(|v| v.len()), Ok(1));
        assert!(protocols("SSLv3")
            .unwrap_err()
            .starts_with("Invalid tls-protocols"));
    }

    #[test]
    fn cipher_lists_select_as_openssl_would() {
        assert_eq!(select("", TLS12_NAMES), Ok(None));
        assert_eq!(select("DEFAULT", TLS12_NAMES), Ok(None));
        assert_eq!(
            select(
                "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
                TLS12_NAMES
            ),
            Ok(Some(vec![
                CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
            ]))
        );
        assert_eq!(
            select("AES128-SHA256", TLS12_NAMES),
            Err(()),
            "a CBC suite rustls lacks: no cipher match"
        );
        let without = select("DEFAULT:!ECDHE-RSA-CHACHA20-POLY1305", TLS12_NAMES)
            .expect("valid")
            .expect("restricted");
        assert_eq!(without.len(), TLS12_NAMES.len() - 1);
        assert_eq!(
            select("TLS_AES_256_GCM_SHA384", TLS13_NAMES),
            Ok(Some(vec![CipherSuite::TLS13_AES_256_GCM_SHA384]))
        );
    }

    #[test]
    fn the_session_cache_keeps_its_size_and_forgets_old_sessions() {
        use rustls::server::StoresServerSessions;
        let cache = SessionCache::new(2, std::time::Duration::from_secs(60));
        for id in [1u8, 2, 3] {
            assert!(cache.put(vec![id], vec![id; 4]));
        }
        assert_eq!(cache.get(&[1]), None, "the oldest made room");
        assert_eq!(cache.get(&[3]), Some(vec![3; 4]));
        assert_eq!(cache.take(&[2]), Some(vec![2; 4]));
        assert_eq!(cache.take(&[2]), None, "taken once");
        let expired = SessionCache::new(2, std::time::Duration::ZERO);
        expired.put(vec![1], vec![1]);
        assert_eq!(expired.get(&[1]), None, "past tls-session-cache-timeout");
    }

    #[test]
    fn a_context_needs_a_certificate_a_key_and_a_ca_when_clients_are_checked() {
        let mut s = crate::config::Settings::defaults().tls;
        assert_eq!(build(&s).unwrap_err(), "No tls-cert-file configured!");
        s.cert_file = "/nonexistent/cert.pem".into();
        assert_eq!(build(&s).unwrap_err(), "No tls-key-file configured!");
        s.key_file = "/nonexistent/key.pem".into();
        assert!(build(&s)
            .unwrap_err()
            .starts_with("Either tls-ca-cert-file"));
        s.auth_clients = TlsAuthClients::No;
        assert!(build(&s)
            .unwrap_err()
            .starts_with("Failed to load certificate: /nonexistent/cert.pem"));
    }
}
