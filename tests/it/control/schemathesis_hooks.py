"""Schemathesis hooks for tests/it/control/python.rs.

Two adjustments to what the fuzzer sends, so that a run tests the API instead of breaking
its own set-up; each keeps every check on every operation:

- The network rule of this project: tests only ever reach loopback. Schemathesis generates
  arbitrary host names for `PUT /v1/replication/master` and a failover's `target`; once
  those calls really connect to the given master, a generated name could send the server
  out to the internet. A well-typed host is therefore replaced by 127.0.0.1 (a host of the
  wrong type is left alone: the server refuses it before any connection, which is what the
  negative tests check).
- `PATCH /v1/config` may change `http-auth-token`, the credential the run itself uses; a
  generated value would lock the run out (or, with an empty one, open the API), and every
  later auth check would test the fuzzer's change instead of the server. That key is
  dropped from generated bodies.
- For the same reason the directives that move the run's own sockets (`port`, `bind`,
  `http-port`, `http-bind`, `http-enabled`, `tls-port`, and `http-tls-*`, which would turn
  the run's plain HTTP into HTTPS: they take effect at run time) are dropped, and so
  is `otel-endpoint`, whose generated URL the exporter would really post spans to (off this
  host). tests/it/networking.rs and tests/it/traces.rs change them on purpose.
"""
import schemathesis


def _pin(obj):
    if isinstance(obj, dict) and isinstance(obj.get("host"), str):
        obj["host"] = "127.0.0.1"


@schemathesis.hook
def before_call(context, case, kwargs):
    path = case.operation.path
    if not isinstance(case.body, dict):
        return
    if path == "/v1/replication/master":
        _pin(case.body)
    elif path == "/v1/replication/failover":
        _pin(case.body.get("target"))
    elif path == "/v1/config":
        for key in ("http-auth-token", "port", "bind", "http-port", "http-bind",
                    "http-enabled", "otel-endpoint", "tls-port", "http-tls-cert-file",
                    "http-tls-key-file", "http-tls-ca-cert-file"):
            case.body.pop(key, None)
