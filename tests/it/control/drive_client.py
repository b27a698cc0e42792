"""Drives a live replikv through the Python client that openapi-python-client generated
from openapi/replikv.json (imported as `replikv_client`). Exits non-zero on the first
mismatch. Arguments: BASE_URL TOKEN.

Run by tests/it/control/python.rs against a master started with http-auth-token TOKEN,
after `mypy --strict` has checked it against the generated package: the document's types
and security must let a user write this without casts. Open endpoints take a plain
`Client`; the others declare the bearer token (reads take it optionally, which the
generator types as `AuthenticatedClient`), so anonymous reads are made with httpx.
"""
import sys
from typing import NoReturn, TypeVar

import httpx

from replikv_client import AuthenticatedClient, Client
from replikv_client.api.failover import abort_failover, get_failover, start_failover
from replikv_client.api.health import healthz, metrics, readyz
from replikv_client.api.replication import (
    get_backlog,
    get_replica,
    get_replication,
    list_replicas,
    list_syncs,
    promote,
    resync,
    resync_replica,
)
from replikv_client.api.server import get_config, get_server, patch_config
from replikv_client.models import (
    Backlog,
    ConfigPatch,
    ConfigView,
    FailoverBody,
    FailoverStatus,
    Health,
    Problem,
    Readiness,
    ReplicaList,
    ReplicationState,
    RoleName,
    ServerInfo,
    SideName,
    SyncList,
)
from replikv_client.types import Response

T = TypeVar("T")

base_url, token = sys.argv[1], sys.argv[2]
anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
operator = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
intruder = AuthenticatedClient(
    base_url=base_url, token="not-" + token, raise_on_unexpected_status=True
)


def fail(what: str) -> NoReturn:
    sys.exit("client check failed: " + what)


def expect(cond: bool, what: str) -> None:
    if not cond:
        fail(what)


def must(value: object, kind: type[T], what: str) -> T:
    """`value` as `kind`, or the check fails (a Problem or None where a model was due)."""
    if not isinstance(value, kind):
        fail("%s: %r is not a %s" % (what, value, kind.__name__))
    return value


def problem(reply: Response[T], status: int, kind: str) -> Problem:
    found = must(reply.parsed, Problem, "a problem document")
    expect(reply.status_code == status, "status %s, wanted %s" % (reply.status_code, status))
    expect(found.type_ == "urn:replikv:problem:" + kind, "type %s" % found.type_)
    return found


# Open endpoints, with a plain client.
expect(must(healthz.sync(client=anonymous), Health, "healthz").status == "ok", "healthz")
expect(must(readyz.sync(client=anonymous), Readiness, "readyz").ready is True, "readyz")
scrape = metrics.sync_detailed(client=anonymous)
expect(scrape.status_code == 200 and b"redis_up 1" in scrape.content, "metrics")

# Reads, typed (the token is optional there unless http-auth-reads; anonymous with httpx).
expect(httpx.get(base_url + "/v1/server").status_code == 200, "an anonymous read")
server = must(get_server.sync(client=operator), ServerInfo, "server")
expect(server.role == RoleName.MASTER, "server %r" % server)
expect(server.dataset.keys == 2, "dataset keys %r" % server.dataset)
expect(server.started_at.tzinfo is not None, "started_at is a datetime with a zone")
state = must(get_replication.sync(client=operator), ReplicationState, "replication")
expect(len(state.replid) == 40, "replid %r" % state.replid)
expect(state.master_link is None and state.replicas == [], "a master without replicas")
must(list_replicas.sync(client=operator), ReplicaList, "replicas")
problem(get_replica.sync_detailed(12345, client=operator), 404, "unknown-replica")
backlog = must(get_backlog.sync(client=operator), Backlog, "backlog")
expect(backlog.size == 1048576, "backlog %r" % backlog)
syncs = must(list_syncs.sync(client=operator, limit=10, side=SideName.MASTER), SyncList, "syncs")
expect(syncs.syncs == [], "syncs %r" % syncs)
problem(list_syncs.sync_detailed(client=operator, limit=0), 422, "invalid-field")
must(get_failover.sync(client=operator), FailoverStatus, "failover state")
config = must(get_config.sync(client=operator), ConfigView, "config")
by_name = {d.name: d for d in config.directives}
expect(by_name["maxclients"].value == "10000" and by_name["maxclients"].mutable, "maxclients")
expect(by_name["http-auth-token"].value is None and by_name["http-auth-token"].secret, "token hidden")
expect(by_name["tls-key-file-pass"].value is None, "TLS passphrase hidden")

# Mutations: refused without the right token, and nothing changes.
problem(
    patch_config.sync_detailed(client=intruder, body=ConfigPatch(maxclients="321")),
    401,
    "unauthorized",
)
unchanged = must(get_config.sync(client=operator), ConfigView, "config")
expect(
    [d.value for d in unchanged.directives if d.name == "maxclients"] == ["10000"], "unchanged"
)
changed = must(
    patch_config.sync(client=operator, body=ConfigPatch(maxclients="321")), ConfigView, "patched"
)
expect(changed.directives[0].value == "321", "patched %r" % changed)
bad = problem(
    patch_config.sync_detailed(client=operator, body=ConfigPatch(maxclients="lots")),
    422,
    "invalid-field",
)
expect(bad.field == "maxclients", "field %r" % bad.field)

# Replication operations a master answers today.
promoted = must(promote.sync(client=operator), ReplicationState, "promote")
expect(promoted.role == RoleName.MASTER, "promote on a master is a no-op")
expect(promoted.replid == state.replid, "promotion of a master keeps its id")
problem(resync.sync_detailed(client=operator), 409, "conflict")
problem(resync_replica.sync_detailed(7, client=operator), 404, "unknown-replica")
problem(start_failover.sync_detailed(client=operator, body=FailoverBody()), 409, "conflict")
problem(abort_failover.sync_detailed(client=operator), 409, "conflict")
problem(promote.sync_detailed(client=intruder), 401, "unauthorized")
print("client OK")
