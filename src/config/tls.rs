//! The `tls-*` directives' values, as Redis 7.0 names them. What they mean for a
//! connection (certificates, verification, protocol versions, cipher suites) is worked out
//! by [`crate::tls`]; here they are only checked for form, as Redis's config table does.

/// `tls-auth-clients`: whether a client connecting to `tls-port` must show a certificate
/// signed by the configured CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsAuthClients {
    /// A client without a valid certificate is refused (Redis's default).
    Yes,
    /// No certificate is asked for.
    No,
    /// A certificate is asked for and checked when shown, but may be left out.
    Optional,
}

/// The names `tls-auth-clients` accepts.
pub const TLS_AUTH_CLIENTS: &[(&str, TlsAuthClients)] = &[
    ("no", TlsAuthClients::No),
    ("yes", TlsAuthClients::Yes),
    ("optional", TlsAuthClients::Optional),
];

/// Every `tls-*` directive. Paths are used as given (relative ones against the process's
/// working directory, as Redis opens them); empty means unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// `tls-port`: the port TLS clients connect to (0 = none).
    pub port: u16,
    /// `tls-cert-file`: the server certificate chain (PEM); also the replication link's
    /// client certificate when `tls-client-cert-file` is unset.
    pub cert_file: String,
    /// `tls-key-file`: its private key (PEM).
    pub key_file: String,
    /// `tls-key-file-pass`: the passphrase of an encrypted `tls-key-file`.
    pub key_file_pass: String,
    /// `tls-client-cert-file`: the certificate shown to a master (replication).
    pub client_cert_file: String,
    /// `tls-client-key-file`: its private key.
    pub client_key_file: String,
    /// `tls-client-key-file-pass`: the passphrase of an encrypted `tls-client-key-file`.
    pub client_key_file_pass: String,
    /// `tls-dh-params-file`: DH parameters (read and checked; see docs/reliability.md).
    pub dh_params_file: String,
    /// `tls-ca-cert-file`: CA certificates that sign clients' and masters' certificates.
    pub ca_cert_file: String,
    /// `tls-ca-cert-dir`: a directory of CA certificates.
    pub ca_cert_dir: String,
    /// `tls-protocols`: the protocol versions allowed ("" = TLSv1.2 and TLSv1.3).
    pub protocols: String,
    /// `tls-ciphers`: TLS 1.2 cipher suites, in OpenSSL's list syntax ("" = the defaults).
    pub ciphers: String,
    /// `tls-ciphersuites`: TLS 1.3 cipher suites ("" = the defaults).
    pub ciphersuites: String,
    /// `tls-auth-clients`.
    pub auth_clients: TlsAuthClients,
    /// `tls-replication`: replicas connect to their master over TLS.
    pub replication: bool,
    /// `tls-cluster`: cluster bus over TLS. replikv has no cluster bus; as in Redis, MIGRATE
    /// connects to its targets over TLS when it is set.
    pub cluster: bool,
    /// `tls-prefer-server-ciphers`: the server's cipher order wins.
    pub prefer_server_ciphers: bool,
    /// `tls-session-caching`: TLS sessions may be resumed.
    pub session_caching: bool,
    /// `tls-session-cache-size`: sessions kept for resumption.
    pub session_cache_size: u64,
    /// `tls-session-cache-timeout`: seconds a session may be resumed for.
    pub session_cache_timeout: u64,
    /// `http-tls-cert-file`: the control plane serves HTTPS with this certificate chain.
    pub http_cert_file: String,
    /// `http-tls-key-file`: its private key.
    pub http_key_file: String,
    /// `http-tls-ca-cert-file`: when set, HTTPS callers must show a certificate it signed.
    pub http_ca_cert_file: String,
}

impl TlsSettings {
    /// The blank state the directive table's defaults are applied to.
    pub(super) fn blank() -> TlsSettings {
        TlsSettings {
            port: 0,
            cert_file: String::new(),
            key_file: String::new(),
            key_file_pass: String::new(),
            client_cert_file: String::new(),
            client_key_file: String::new(),
            client_key_file_pass: String::new(),
            dh_params_file: String::new(),
            ca_cert_file: String::new(),
            ca_cert_dir: String::new(),
            protocols: String::new(),
            ciphers: String::new(),
            ciphersuites: String::new(),
            auth_clients: TlsAuthClients::Yes,
            replication: false,
            cluster: false,
            prefer_server_ciphers: false,
            session_caching: true,
            session_cache_size: 0,
            session_cache_timeout: 0,
            http_cert_file: String::new(),
            http_key_file: String::new(),
            http_ca_cert_file: String::new(),
        }
    }

    /// True when anything needs a TLS context: a TLS port, or replication over TLS (Redis
    /// configures TLS in the same cases).
    pub fn wanted(&self) -> bool {
        self.port != 0 || self.replication || self.cluster
    }

    /// Everything the RESP TLS context is built from, without the port and the control
    /// plane's files: a CONFIG SET that changes it rebuilds the context.
    pub fn context_differs(&self, other: &TlsSettings) -> bool {
        let mut a = self.clone();
        a.port = other.port;
        a.http_cert_file.clone_from(&other.http_cert_file);
        a.http_key_file.clone_from(&other.http_key_file);
        a.http_ca_cert_file.clone_from(&other.http_ca_cert_file);
        a != *other
    }

    /// True when the control plane serves HTTPS.
    pub fn http_wanted(&self) -> bool {
        !self.http_cert_file.is_empty() || !self.http_key_file.is_empty()
    }

    /// True when the control plane's TLS files differ.
    pub fn http_differs(&self, other: &TlsSettings) -> bool {
        self.http_cert_file != other.http_cert_file
            || self.http_key_file != other.http_key_file
            || self.http_ca_cert_file != other.http_ca_cert_file
    }
}
