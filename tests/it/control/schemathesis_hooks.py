"""Schemathesis hooks for tests/it/control/python.rs.

The network rule of this project: tests only ever reach loopback. Schemathesis generates
arbitrary host names for `PUT /v1/replication/master` and a failover's `target`; once those
calls really connect to the given master, a generated name could send the server out to the
internet. Every well-typed host is therefore replaced by 127.0.0.1 before the call (a host
of the wrong type is left alone: the server refuses it before any connection, which is what
the negative tests check).
"""
import schemathesis


def _pin(obj):
    if isinstance(obj, dict) and isinstance(obj.get("host"), str):
        obj["host"] = "127.0.0.1"


@schemathesis.hook
def before_call(context, case, kwargs):
    path = case.operation.path
    if path == "/v1/replication/master" and isinstance(case.body, dict):
        _pin(case.body)
    if path == "/v1/replication/failover" and isinstance(case.body, dict):
        _pin(case.body.get("target"))
