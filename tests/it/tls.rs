//! TLS as Redis 7.0 offers it, checked side by side with redis-server built with TLS:
//! clients on `tls-port` (redis-cli and a rustls client), client certificates
//! (`tls-auth-clients`), protocol versions and cipher suites, CONFIG SET reloading the
//! context and moving the TLS port, encrypted keys, and replication over TLS in both
//! directions with real Redis.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::harness::repl::{keyspace, wait_converged, wait_link_up};
use crate::harness::{free_port, redis_tool, wait_until, Conn, Kind, Node, Value};

/// A CA and certificates signed by it, made with the openssl tool as Redis's
/// `utils/gen-test-certs.sh` makes them (RSA 2048, a server-only and a client-only
/// certificate, and an unrestricted one), with v3 extensions.
struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    fn generate() -> Certs {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        std::fs::write(
            d.join("ext.cnf"),
            "[server]\nkeyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1\n\
             [client]\nkeyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = clientAuth\n\
             [generic]\nbasicConstraints = CA:FALSE\nsubjectAltName = IP:127.0.0.1\n",
        )
        .expect("write ext.cnf");
        openssl(d, &["genrsa", "-out", "ca.key", "2048"]);
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-nodes",
                "-sha256",
                "-key",
                "ca.key",
                "-days",
                "30",
                "-subj",
                "/O=replikv test/CN=Certificate Authority",
                "-out",
                "ca.crt",
            ],
        );
        for (name, cn) in [
            ("server", "Server-only"),
            ("client", "Client-only"),
            ("generic", "Generic-cert"),
        ] {
            openssl(d, &["genrsa", "-out", &format!("{name}.key"), "2048"]);
            openssl(
                d,
                &[
                    "req",
                    "-new",
                    "-sha256",
                    "-key",
                    &format!("{name}.key"),
                    "-subj",
                    &format!("/O=replikv test/CN={cn}"),
                    "-out",
                    &format!("{name}.csr"),
                ],
            );
            openssl(
                d,
                &[
                    "x509",
                    "-req",
                    "-sha256",
                    "-in",
                    &format!("{name}.csr"),
                    "-CA",
                    "ca.crt",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-days",
                    "30",
                    "-extfile",
                    "ext.cnf",
                    "-extensions",
                    name,
                    "-out",
                    &format!("{name}.crt"),
                ],
            );
        }
        Certs { dir }
    }

    fn path(&self, file: &str) -> String {
        self.dir
            .path()
            .join(file)
            .to_str()
            .expect("utf8")
            .to_string()
    }

    /// What Redis's test harness gives a TLS server: its certificate, a client
    /// certificate for replication, the CA, on `tls_port` (plain TCP stays on for the
    /// harness's own connections).
    fn server_args(&self, tls_port: u16) -> Vec<String> {
        [
            ("--tls-port", tls_port.to_string()),
            ("--tls-cert-file", self.path("server.crt")),
            ("--tls-key-file", self.path("server.key")),
            ("--tls-client-cert-file", self.path("client.crt")),
            ("--tls-client-key-file", self.path("client.key")),
            ("--tls-ca-cert-file", self.path("ca.crt")),
        ]
        .into_iter()
        .flat_map(|(k, v)| [k.to_string(), v])
        .collect()
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A node of `kind` with TLS on a port of its own; returns it and its TLS port.
fn start(kind: Kind, certs: &Certs, extra: &[&str]) -> (Node, u16) {
    let tls_port = free_port();
    let mut args = certs.server_args(tls_port);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let node = match kind {
        Kind::Redis => Node::redis(&args),
        // The harness's `--port 0` (ephemeral) would turn plain TCP off beside a TLS port,
        // as in Redis: the admin connection gets a port of its own.
        Kind::Replikv => {
            let plain = free_port().to_string();
            let mut with_port = vec!["--port", plain.as_str()];
            with_port.extend(args.iter().copied());
            Node::replikv(&with_port)
        }
    };
    (node, tls_port)
}

fn ok(v: Value) {
    assert_eq!(v, Value::Simple("OK".into()), "expected OK");
}

/// How a client is set up for one connection.
#[derive(Clone)]
struct Client {
    /// Show the client certificate (or `None`: no certificate).
    cert: Option<(String, String)>,
    /// Protocol versions offered.
    versions: Vec<&'static rustls::SupportedProtocolVersion>,
    /// TLS 1.2 suites offered, in order (empty: all of rustls's).
    suites: Vec<rustls::CipherSuite>,
}

impl Client {
    fn with_cert(certs: &Certs) -> Client {
        Client {
            cert: Some((certs.path("client.crt"), certs.path("client.key"))),
            versions: vec![&rustls::version::TLS13, &rustls::version::TLS12],
            suites: Vec::new(),
        }
    }

    fn without_cert(certs: &Certs) -> Client {
        Client {
            cert: None,
            ..Client::with_cert(certs)
        }
    }

    fn tls12(mut self, suites: &[rustls::CipherSuite]) -> Client {
        self.versions = vec![&rustls::version::TLS12];
        self.suites = suites.to_vec();
        self
    }
}

/// What a TLS connection got: the reply to PING, the suite agreed and the server's
/// certificate subject line, or why it failed.
#[derive(Debug)]
struct Session {
    reply: String,
    suite: rustls::CipherSuite,
    server_cert: Vec<u8>,
}

type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// Connects to `port` over TLS as `client`, verifying the server against the CA (the
/// handshake completes on the first read or write).
fn tls_connect(port: u16, certs: &Certs, client: &Client) -> Result<TlsStream, String> {
    // ring's provider, as the server uses (see src/tls.rs on its deprecation note).
    #[allow(deprecated)]
    let mut provider = rustls::crypto::ring::default_provider();
    if !client.suites.is_empty() {
        provider.cipher_suites = client
            .suites
            .iter()
            .filter_map(|s| {
                rustls::crypto::ring::ALL_CIPHER_SUITES
                    .iter()
                    .find(|c| c.suite() == *s)
                    .cloned()
            })
            .collect();
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(certs.path("ca.crt")).expect("ca") {
        roots.add(cert.expect("ca cert")).expect("add ca");
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&client.versions)
        .expect("versions")
        .with_root_certificates(roots);
    let config = match &client.cert {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                CertificateDer::pem_file_iter(cert)
                    .expect("cert")
                    .map(|c| c.expect("cert"))
                    .collect(),
                PrivateKeyDer::from_pem_file(key).expect("key"),
            )
            .expect("client cert"),
        None => builder.with_no_client_auth(),
    };
    let name = ServerName::try_from("127.0.0.1").expect("name");
    let conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    Ok(rustls::StreamOwned::new(conn, tcp))
}

/// Connects as [`tls_connect`] and sends PING.
fn tls_ping(port: u16, certs: &Certs, client: &Client) -> Result<Session, String> {
    let mut tls = tls_connect(port, certs, client)?;
    tls.write_all(b"PING\r\n").map_err(|e| e.to_string())?;
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while !reply.ends_with(b"\r\n") {
        match tls.read(&mut byte) {
            Ok(0) => return Err("closed".into()),
            Ok(_) => reply.push(byte[0]),
            Err(e) => return Err(e.to_string()),
        }
    }
    let suite = tls
        .conn
        .negotiated_cipher_suite()
        .map(|s| s.suite())
        .ok_or("no suite")?;
    let server_cert = tls
        .conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .unwrap_or_default();
    Ok(Session {
        reply: String::from_utf8_lossy(&reply).into_owned(),
        suite,
        server_cert,
    })
}

/// The status line of `GET path` over HTTPS, or why there is none.
fn https_status(port: u16, certs: &Certs, client: &Client, path: &str) -> Result<String, String> {
    status_line(tls_connect(port, certs, client)?, port, path)
}

/// The status line of `GET path` over plain HTTP, or why there is none.
fn http_status(port: u16, path: &str) -> Result<String, String> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    status_line(tcp, port, path)
}

/// Sends `GET path` on `stream` and returns the response's status line.
fn status_line(mut stream: impl Read + Write, port: u16, path: &str) -> Result<String, String> {
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    text.lines()
        .next()
        .filter(|l| l.starts_with("HTTP/"))
        .map(str::to_string)
        .ok_or_else(|| format!("no HTTP response: {text:?}"))
}

fn pongs(port: u16, certs: &Certs, client: &Client) -> bool {
    tls_ping(port, certs, client).is_ok_and(|s| s.reply == "+PONG\r\n")
}

/// redis-cli over TLS, as a user runs it.
fn cli(port: u16, certs: &Certs, with_cert: bool, args: &[&str]) -> String {
    let mut cmd = Command::new(redis_tool("redis-cli"));
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string(), "--tls"])
        .args(["--cacert", &certs.path("ca.crt")]);
    if with_cert {
        cmd.args(["--cert", &certs.path("client.crt")])
            .args(["--key", &certs.path("client.key")]);
    }
    let out = cmd.args(args).output().expect("redis-cli");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .trim()
    .to_string()
}

/// What a plain-text client gets from a TLS port: the bytes sent back before the close.
fn plain_text_answer(port: u16) -> Vec<u8> {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let _ = tcp.write_all(b"*1\r\n$4\r\nPING\r\n");
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer);
    answer
}

#[test]
fn clients_on_the_tls_port_are_served_and_checked_as_by_redis() {
    let certs = Certs::generate();
    for kind in [Kind::Redis, Kind::Replikv] {
        let (node, tls_port) = start(kind, &certs, &[]);
        let mut admin = node.conn();
        // redis-cli with a client certificate; without one, tls-auth-clients yes refuses.
        assert_eq!(cli(tls_port, &certs, true, &["PING"]), "PONG", "{kind:?}");
        assert_eq!(
            cli(tls_port, &certs, true, &["SET", "k", "over tls"]),
            "OK",
            "{kind:?}"
        );
        assert_eq!(admin.cmd(&["GET", "k"]), Value::Bulk(b"over tls".to_vec()));
        assert!(
            pongs(tls_port, &certs, &Client::with_cert(&certs)),
            "{kind:?}"
        );
        assert!(
            !pongs(tls_port, &certs, &Client::without_cert(&certs)),
            "{kind:?}: served a client without a certificate"
        );
        assert_ne!(cli(tls_port, &certs, false, &["PING"]), "PONG", "{kind:?}");
        // Plain text on the TLS port: closed without an answer.
        assert_eq!(plain_text_answer(tls_port), b"", "{kind:?}");

        ok(admin.cmd(&["CONFIG", "SET", "tls-auth-clients", "no"]));
        assert!(
            pongs(tls_port, &certs, &Client::without_cert(&certs)),
            "{kind:?}"
        );
        ok(admin.cmd(&["CONFIG", "SET", "tls-auth-clients", "optional"]));
        assert!(
            pongs(tls_port, &certs, &Client::without_cert(&certs)),
            "{kind:?}"
        );
        assert!(
            pongs(tls_port, &certs, &Client::with_cert(&certs)),
            "{kind:?}"
        );
        ok(admin.cmd(&["CONFIG", "SET", "tls-auth-clients", "yes"]));
        assert!(
            !pongs(tls_port, &certs, &Client::without_cert(&certs)),
            "{kind:?}"
        );

        // Protocol versions.
        ok(admin.cmd(&["CONFIG", "SET", "tls-protocols", "TLSv1.2"]));
        let tls13_only = Client {
            versions: vec![&rustls::version::TLS13],
            ..Client::with_cert(&certs)
        };
        assert!(!pongs(tls_port, &certs, &tls13_only), "{kind:?}");
        assert!(
            pongs(tls_port, &certs, &Client::with_cert(&certs).tls12(&[])),
            "{kind:?}"
        );
        ok(admin.cmd(&["CONFIG", "SET", "tls-protocols", ""]));
        assert!(pongs(tls_port, &certs, &tls13_only), "{kind:?}");
    }
}

#[test]
fn cipher_suites_and_their_order_are_chosen_as_by_redis() {
    use rustls::CipherSuite::{
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 as AES128,
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 as AES256,
    };
    let certs = Certs::generate();
    for kind in [Kind::Redis, Kind::Replikv] {
        let (node, tls_port) = start(kind, &certs, &[]);
        let mut admin = node.conn();
        let client = |suites: &[rustls::CipherSuite]| Client::with_cert(&certs).tls12(suites);
        let agreed = |suites: &[rustls::CipherSuite]| {
            tls_ping(tls_port, &certs, &client(suites)).map(|s| s.suite)
        };
        ok(admin.cmd(&[
            "CONFIG",
            "SET",
            "tls-ciphers",
            "ECDHE-RSA-AES256-GCM-SHA384",
        ]));
        assert!(agreed(&[AES128]).is_err(), "{kind:?}: a suite not allowed");
        assert_eq!(agreed(&[AES128, AES256]), Ok(AES256), "{kind:?}");
        ok(admin.cmd(&[
            "CONFIG",
            "SET",
            "tls-ciphers",
            "DEFAULT:!ECDHE-RSA-AES256-GCM-SHA384",
        ]));
        assert!(agreed(&[AES256]).is_err(), "{kind:?}: an excluded suite");

        // The client's order wins, unless tls-prefer-server-ciphers.
        ok(admin.cmd(&[
            "CONFIG",
            "SET",
            "tls-ciphers",
            "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384",
        ]));
        assert_eq!(agreed(&[AES256, AES128]), Ok(AES256), "{kind:?}");
        ok(admin.cmd(&["CONFIG", "SET", "tls-prefer-server-ciphers", "yes"]));
        assert_eq!(agreed(&[AES256, AES128]), Ok(AES128), "{kind:?}");
    }
}

#[test]
fn config_set_reloads_certificates_and_moves_the_tls_port_as_redis() {
    let certs = Certs::generate();
    let mut refusals = Vec::new();
    for kind in [Kind::Redis, Kind::Replikv] {
        let (node, tls_port) = start(kind, &certs, &[]);
        let mut admin = node.conn();
        let first = tls_ping(tls_port, &certs, &Client::with_cert(&certs)).expect("tls");
        // A file that cannot be loaded is refused and nothing changes.
        refusals.push(admin.cmd(&["CONFIG", "SET", "tls-cert-file", "/nonexistent.crt"]));
        refusals.push(admin.cmd(&["CONFIG", "SET", "tls-key-file", &certs.path("client.key")]));
        assert_eq!(
            admin.cmd(&["CONFIG", "GET", "tls-cert-file"]).array()[1].text(),
            certs.path("server.crt")
        );
        assert!(
            pongs(tls_port, &certs, &Client::with_cert(&certs)),
            "{kind:?}"
        );

        // A new certificate serves new connections.
        ok(admin.cmd(&[
            "CONFIG",
            "SET",
            "tls-cert-file",
            &certs.path("generic.crt"),
            "tls-key-file",
            &certs.path("generic.key"),
        ]));
        let second = tls_ping(tls_port, &certs, &Client::with_cert(&certs)).expect("tls");
        assert_ne!(first.server_cert, second.server_cert, "{kind:?}");
        assert_eq!(
            second.server_cert,
            CertificateDer::from_pem_file(certs.path("generic.crt"))
                .expect("generic")
                .to_vec()
        );

        // An encrypted key needs its passphrase.
        let encrypted = certs.path("server.key.encrypted");
        openssl(
            certs.dir.path(),
            &[
                "rsa",
                "-in",
                "server.key",
                "-out",
                &encrypted,
                "-aes256",
                "-passout",
                "pass:1234",
            ],
        );
        refusals.push(admin.cmd(&[
            "CONFIG",
            "SET",
            "tls-cert-file",
            &certs.path("server.crt"),
            "tls-key-file",
            &encrypted,
        ]));
        ok(admin.cmd(&["CONFIG", "SET", "tls-key-file-pass", "1234"]));
        ok(admin.cmd(&[
            "CONFIG",
            "SET",
            "tls-cert-file",
            &certs.path("server.crt"),
            "tls-key-file",
            &encrypted,
        ]));
        let third = tls_ping(tls_port, &certs, &Client::with_cert(&certs)).expect("tls");
        assert_eq!(third.server_cert, first.server_cert, "{kind:?}");

        // A taken port is refused; then the TLS port moves and connections stay.
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let taken = taken.local_addr().expect("addr").port().to_string();
        refusals.push(admin.cmd(&["CONFIG", "SET", "tls-port", &taken]));
        assert!(
            pongs(tls_port, &certs, &Client::with_cert(&certs)),
            "{kind:?}"
        );
        let moved = free_port();
        ok(admin.cmd(&["CONFIG", "SET", "tls-port", &moved.to_string()]));
        assert!(pongs(moved, &certs, &Client::with_cert(&certs)), "{kind:?}");
        wait_until(Duration::from_secs(5), "the old TLS port to close", || {
            TcpStream::connect(("127.0.0.1", tls_port)).is_err()
        });
        assert_eq!(admin.cmd(&["PING"]), Value::Simple("PONG".into()));
        ok(admin.cmd(&["CONFIG", "SET", "tls-port", "0"]));
        wait_until(Duration::from_secs(5), "TLS to close", || {
            TcpStream::connect(("127.0.0.1", moved)).is_err()
        });
    }
    assert_eq!(refusals[..4], refusals[4..], "replies differ from Redis's");
    assert_eq!(
        refusals[0],
        Value::Error(
            "ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs.".into()
        )
    );
}

#[test]
fn port_zero_beside_a_tls_port_turns_plain_tcp_off_as_redis() {
    let certs = Certs::generate();
    let dir = tempfile::tempdir().expect("tempdir");
    let tls_port = free_port();
    let mut args = certs.server_args(tls_port);
    args.extend(
        ["--port", "0", "--http-enabled", "no", "--save", ""]
            .iter()
            .map(|s| s.to_string()),
    );
    args.extend(["--dir".to_string(), dir.path().display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let node = Node::replikv_raw(&args, tempfile::tempdir().expect("tempdir"));
    assert_eq!(node.port, 0, "no plain TCP port is bound");
    assert!(node.wait_for_log(&format!("tls_port={tls_port}")));
    assert_eq!(cli(tls_port, &certs, true, &["PING"]), "PONG");
    // A plain port comes and goes at run time (Redis's "switch between tcp and tls ports").
    let plain = free_port();
    assert_eq!(
        cli(
            tls_port,
            &certs,
            true,
            &["CONFIG", "SET", "port", &plain.to_string()]
        ),
        "OK"
    );
    assert_eq!(
        Conn::connect(plain).cmd(&["PING"]),
        Value::Simple("PONG".into())
    );
    assert_eq!(
        cli(tls_port, &certs, true, &["CONFIG", "SET", "port", "0"]),
        "OK"
    );
    wait_until(Duration::from_secs(5), "plain TCP to close", || {
        TcpStream::connect(("127.0.0.1", plain)).is_err()
    });
    assert_eq!(cli(tls_port, &certs, true, &["PING"]), "PONG");
}

/// A master and a replica linked over TLS: the replica's `replicaof` names the master's
/// TLS port, so a replica that did not speak TLS there would never link.
fn replicate_over_tls(master_kind: Kind, replica_kind: Kind) {
    let certs = Certs::generate();
    let (master, master_tls) = start(master_kind, &certs, &["--repl-diskless-sync-delay", "0"]);
    let mut m = master.conn();
    for i in 0..100 {
        ok(m.cmd(&["SET", &format!("before:{i}"), &format!("v{i}")]));
    }
    let port = master_tls.to_string();
    let (replica, replica_tls) = start(
        replica_kind,
        &certs,
        &[
            "--tls-replication",
            "yes",
            "--replicaof",
            "127.0.0.1",
            &port,
        ],
    );
    wait_link_up(&replica, Duration::from_secs(30));
    for i in 0..100 {
        ok(m.cmd(&["SET", &format!("after:{i}"), &format!("v{i}")]));
    }
    assert_eq!(m.cmd(&["HSET", "h", "f", "v"]), Value::Int(1));
    wait_converged(&master, &replica, Duration::from_secs(30));
    assert_eq!(keyspace(&master), keyspace(&replica));
    // The replica announces its TLS port, as Redis does under tls-replication.
    let info = m.cmd(&["INFO", "replication"]).text();
    assert!(
        info.contains(&format!("port={replica_tls},")),
        "{master_kind:?} master, {replica_kind:?} replica: {info}"
    );
}

#[test]
fn replication_over_tls_between_replikv_nodes() {
    replicate_over_tls(Kind::Replikv, Kind::Replikv);
}

#[test]
fn a_replikv_replica_follows_a_redis_master_over_tls() {
    replicate_over_tls(Kind::Redis, Kind::Replikv);
}

#[test]
fn a_redis_replica_follows_a_replikv_master_over_tls() {
    replicate_over_tls(Kind::Replikv, Kind::Redis);
}

/// MIGRATE over TLS: with `tls-cluster yes` it connects to its target as Redis's MIGRATE
/// does (with the cluster bus's connection type), from either server to either. Without
/// it, the same MIGRATE to a TLS port gets no answer it can read and fails, keeping the key.
#[test]
fn migrate_connects_over_tls_with_tls_cluster_as_redis() {
    let certs = Certs::generate();
    for source_kind in [Kind::Redis, Kind::Replikv] {
        let (source, _) = start(source_kind, &certs, &["--tls-cluster", "yes"]);
        let mut s = source.conn();
        for target_kind in [Kind::Redis, Kind::Replikv] {
            let (target, target_tls) = start(target_kind, &certs, &[]);
            let port = target_tls.to_string();
            ok(s.cmd(&["SET", "a", "1"]));
            assert_eq!(s.cmd(&["RPUSH", "b", "x", "y"]), Value::Int(2));
            let reply = s.cmd(&[
                "MIGRATE",
                "127.0.0.1",
                &port,
                "",
                "0",
                "5000",
                "KEYS",
                "a",
                "b",
            ]);
            assert_eq!(
                reply,
                Value::Simple("OK".into()),
                "{source_kind:?} to {target_kind:?}"
            );
            assert_eq!(s.cmd(&["EXISTS", "a", "b"]), Value::Int(0));
            let mut t = target.conn();
            assert_eq!(t.cmd(&["GET", "a"]), Value::Bulk(b"1".to_vec()));
            assert_eq!(
                t.cmd(&["LRANGE", "b", "0", "-1"]),
                Value::Array(vec![Value::Bulk(b"x".to_vec()), Value::Bulk(b"y".to_vec())])
            );
            // The cached connection serves the next MIGRATE (COPY keeps the key here).
            ok(s.cmd(&["SET", "c", "3"]));
            let reply = s.cmd(&["MIGRATE", "127.0.0.1", &port, "c", "0", "5000", "COPY"]);
            assert_eq!(reply, Value::Simple("OK".into()));
            assert_eq!(t.cmd(&["GET", "c"]), Value::Bulk(b"3".to_vec()));
            assert_eq!(s.cmd(&["DEL", "c"]), Value::Int(1));
        }
    }
    let (source, _) = start(Kind::Replikv, &certs, &[]);
    let (_target, target_tls) = start(Kind::Redis, &certs, &[]);
    let mut s = source.conn();
    ok(s.cmd(&["SET", "a", "1"]));
    let port = target_tls.to_string();
    match s.cmd(&["MIGRATE", "127.0.0.1", &port, "a", "0", "1000"]) {
        Value::Error(e) => assert!(e.starts_with("IOERR"), "{e}"),
        other => panic!("plain MIGRATE to a TLS port answered {other:?}"),
    }
    assert_eq!(s.cmd(&["GET", "a"]), Value::Bulk(b"1".to_vec()));
}

/// Without `tls-client-cert-file`, a replica shows its master the server certificate
/// (Redis's rule; here an unrestricted one, as the suite's redis.crt), for either master.
#[test]
fn a_replica_without_a_client_certificate_shows_its_server_certificate() {
    let certs = Certs::generate();
    for master_kind in [Kind::Redis, Kind::Replikv] {
        let (master, master_tls) = start(master_kind, &certs, &[]);
        let replica_tls = free_port().to_string();
        let plain = free_port().to_string();
        let master_port = master_tls.to_string();
        let (cert, key, ca) = (
            certs.path("generic.crt"),
            certs.path("generic.key"),
            certs.path("ca.crt"),
        );
        let replica = Node::replikv(&[
            "--port",
            &plain,
            "--tls-port",
            &replica_tls,
            "--tls-cert-file",
            &cert,
            "--tls-key-file",
            &key,
            "--tls-ca-cert-file",
            &ca,
            "--tls-replication",
            "yes",
            "--replicaof",
            "127.0.0.1",
            &master_port,
        ]);
        wait_link_up(&replica, Duration::from_secs(30));
        ok(master.conn().cmd(&["SET", "k", "v"]));
        wait_converged(&master, &replica, Duration::from_secs(30));
        assert_eq!(
            replica.conn().cmd(&["GET", "k"]),
            Value::Bulk(b"v".to_vec()),
            "{master_kind:?} master"
        );
    }
}

/// The control plane over HTTPS (`http-tls-*`): served with its certificate, plain HTTP
/// refused on that port, client certificates required once a CA is set, and back to plain
/// HTTP when the files are cleared, all at run time.
#[test]
fn the_control_plane_serves_https_when_given_a_certificate() {
    let certs = Certs::generate();
    let node = Node::replikv(&[
        "--http-tls-cert-file",
        &certs.path("server.crt"),
        "--http-tls-key-file",
        &certs.path("server.key"),
    ]);
    let http = node.http_port;
    let mut admin = node.conn();
    let anonymous = Client::without_cert(&certs);
    assert_eq!(
        https_status(http, &certs, &anonymous, "/healthz").as_deref(),
        Ok("HTTP/1.1 200 OK")
    );
    assert!(
        http_status(http, "/healthz").is_err(),
        "plain HTTP on the HTTPS port"
    );

    ok(admin.cmd(&[
        "CONFIG",
        "SET",
        "http-tls-ca-cert-file",
        &certs.path("ca.crt"),
    ]));
    assert!(https_status(http, &certs, &anonymous, "/healthz").is_err());
    assert_eq!(
        https_status(http, &certs, &Client::with_cert(&certs), "/healthz").as_deref(),
        Ok("HTTP/1.1 200 OK")
    );

    // A file that cannot be used changes nothing.
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "http-tls-cert-file", "/nonexistent.crt"]),
        Value::Error("ERR CONFIG SET failed (possibly related to argument 'http-tls-cert-file') - Unable to update TLS configuration. Check server logs.".into())
    );
    assert_eq!(
        https_status(http, &certs, &Client::with_cert(&certs), "/healthz").as_deref(),
        Ok("HTTP/1.1 200 OK")
    );

    ok(admin.cmd(&[
        "CONFIG",
        "SET",
        "http-tls-cert-file",
        "",
        "http-tls-key-file",
        "",
    ]));
    assert_eq!(
        http_status(http, "/healthz").as_deref(),
        Ok("HTTP/1.1 200 OK")
    );
}
