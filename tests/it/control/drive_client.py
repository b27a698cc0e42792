"""Drives a live replikv through the Python client that openapi-python-client generated
from openapi/replikv.json (imported as `replikv_client`). Exits non-zero on the first
mismatch. Arguments: BASE_URL TOKEN.

Run by tests/it/control/python.rs against a master started with http-auth-token TOKEN.
"""
import sys

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
    ConfigView,
    FailoverBody,
    FailoverStatus,
    ConfigPatch,
    Problem,
    ReplicaList,
    ReplicationState,
    RoleName,
    ServerInfo,
    SideName,
    SyncList,
)

base_url, token = sys.argv[1], sys.argv[2]
anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
operator = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
intruder = AuthenticatedClient(base_url=base_url, token="not-" + token, raise_on_unexpected_status=True)


def expect(cond, what):
    if not cond:
        sys.exit("client check failed: " + what)


def problem(reply, status, kind):
    expect(isinstance(reply.parsed, Problem), "%r is not a Problem" % (reply,))
    expect(reply.status_code == status, "status %s, wanted %s" % (reply.status_code, status))
    expect(reply.parsed.type_ == "urn:replikv:problem:" + kind, "type %s" % reply.parsed.type_)
    return reply.parsed


# Reads, typed.
expect(healthz.sync(client=anonymous).status == "ok", "healthz")
expect(readyz.sync(client=anonymous).ready is True, "readyz")
server = get_server.sync(client=anonymous)
expect(isinstance(server, ServerInfo) and server.role == RoleName.MASTER, "server %r" % server)
expect(server.dataset.keys == 2, "dataset keys %r" % server.dataset)
expect(server.started_at.tzinfo is not None, "started_at is a datetime with a zone")
state = get_replication.sync(client=anonymous)
expect(isinstance(state, ReplicationState) and len(state.replid) == 40, "replication %r" % state)
expect(state.master_link is None and state.replicas == [], "a master without replicas")
expect(isinstance(list_replicas.sync(client=anonymous), ReplicaList), "replicas")
problem(get_replica.sync_detailed(12345, client=anonymous), 404, "unknown-replica")
backlog = get_backlog.sync(client=anonymous)
expect(isinstance(backlog, Backlog) and backlog.size == 1048576, "backlog %r" % backlog)
syncs = list_syncs.sync(client=anonymous, limit=10, side=SideName.MASTER)
expect(isinstance(syncs, SyncList) and syncs.syncs == [], "syncs %r" % syncs)
problem(list_syncs.sync_detailed(client=anonymous, limit=0), 422, "invalid-field")
expect(isinstance(get_failover.sync(client=anonymous), FailoverStatus), "failover state")
config = get_config.sync(client=anonymous)
expect(isinstance(config, ConfigView), "config")
by_name = {d.name: d for d in config.directives}
expect(by_name["maxclients"].value == "10000" and by_name["maxclients"].mutable, "maxclients")
expect(by_name["http-auth-token"].value is None and by_name["http-auth-token"].secret, "token hidden")
scrape = metrics.sync_detailed(client=anonymous)
expect(scrape.status_code == 200 and b"redis_up 1" in scrape.content, "metrics")

# Mutations: refused without the right token, and nothing changes.
problem(patch_config.sync_detailed(client=intruder, body=ConfigPatch(maxclients="321")), 401, "unauthorized")
expect(get_config.sync(client=anonymous).directives and by_name["maxclients"].value == "10000", "unchanged")
changed = patch_config.sync(client=operator, body=ConfigPatch(maxclients="321"))
expect(isinstance(changed, ConfigView) and changed.directives[0].value == "321", "patched %r" % changed)
bad = problem(patch_config.sync_detailed(client=operator, body=ConfigPatch(maxclients="lots")), 422, "invalid-field")
expect(bad.field == "maxclients", "field %r" % bad.field)

# Replication operations a master answers today.
promoted = promote.sync(client=operator)
expect(isinstance(promoted, ReplicationState) and promoted.role == RoleName.MASTER, "promote on a master is a no-op")
expect(promoted.replid == state.replid, "promotion of a master keeps its id")
problem(resync.sync_detailed(client=operator), 409, "conflict")
problem(resync_replica.sync_detailed(7, client=operator), 404, "unknown-replica")
problem(start_failover.sync_detailed(client=operator, body=FailoverBody()), 409, "conflict")
problem(abort_failover.sync_detailed(client=operator), 409, "conflict")
problem(promote.sync_detailed(client=intruder), 401, "unauthorized")
print("client OK")
