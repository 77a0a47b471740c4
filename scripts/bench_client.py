#!/usr/bin/env python3
"""The raw-HTTP half of scripts/bench.sh: seeds the cluster and measures the apiserver's own limit.

    bench_client.py seed PREFIX NAMESPACES [--concurrency C]     create the benchmark objects
    bench_client.py list-limit [--page-size P] [--per-namespace PREFIX] [--gzip] [--concurrency C]
    bench_client.py types                                        the types ark backs up, one a line
    bench_client.py kubectl-clean DUMP_DIR OUT_DIR FROM_PREFIX TO_PREFIX

Everything talks to the cluster the current kubeconfig names (read through `kubectl config
view --raw`), with one keep-alive TLS connection per worker thread, spread over a few processes
so that the client's own CPU (the GIL) is not what is measured. Results are one JSON line on
stdout: {"objects": n, "seconds": s, "bytes": b, "requests": r}.
"""

import argparse
import atexit
import base64
import http.client
import json
import multiprocessing
import os
import random
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import zlib

# What ark never backs up unless asked (src/ops/backup.rs DEFAULT_EXCLUDED).
EXCLUDED = {
    "events", "events.events.k8s.io", "nodes", "leases.coordination.k8s.io", "componentstatuses",
    "bindings", "certificatesigningrequests.certificates.k8s.io", "nodes.metrics.k8s.io",
    "pods.metrics.k8s.io", "csinodes.storage.k8s.io", "volumeattachments.storage.k8s.io",
}
# Types served by two groups, of which ark backs up only the newer (src/cluster/discovery.rs).
COHABITING = {("extensions", "apps", "deployments"), ("extensions", "apps", "daemonsets"),
              ("extensions", "apps", "replicasets"), ("extensions", "networking.k8s.io", "networkpolicies"),
              ("extensions", "networking.k8s.io", "ingresses"), ("extensions", "policy", "podsecuritypolicies"),
              ("events.k8s.io", "", "events")}
GROUP = "bench.ark.dev"
# Objects per namespace, by kind: 200 in all.
MIX = [("configmaps", 60), ("secrets", 40), ("deployments", 20), ("services", 20),
       ("serviceaccounts", 10), ("roles", 10), ("rolebindings", 10), ("widgets", 30)]
PER_NAMESPACE = sum(n for _, n in MIX)
COLLECTIONS = {
    "configmaps": "/api/v1/namespaces/{ns}/configmaps",
    "secrets": "/api/v1/namespaces/{ns}/secrets",
    "services": "/api/v1/namespaces/{ns}/services",
    "serviceaccounts": "/api/v1/namespaces/{ns}/serviceaccounts",
    "deployments": "/apis/apps/v1/namespaces/{ns}/deployments",
    "roles": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
    "rolebindings": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
    "widgets": "/apis/" + GROUP + "/v1/namespaces/{ns}/widgets",
}


# --- talking to the apiserver ---------------------------------------------------------------

class Cluster:
    """Where the apiserver is and how to authenticate, from the kubeconfig."""

    def __init__(self):
        raw = json.loads(subprocess.check_output(["kubectl", "config", "view", "--raw", "--minify", "-o", "json"]))
        cluster = raw["clusters"][0]["cluster"]
        user = raw["users"][0]["user"]
        server = cluster["server"]
        m = re.match(r"https://([^:/]+):?(\d+)?", server)
        self.host, self.port = m.group(1), int(m.group(2) or 443)
        self.headers = {}
        self._tmp = None
        ca = cluster.get("certificate-authority")
        if "certificate-authority-data" in cluster:
            ca = self._file("ca.crt", cluster["certificate-authority-data"])
        self.ca = ca
        self.insecure = cluster.get("insecure-skip-tls-verify", False)
        if "token" in user:
            self.headers["Authorization"] = "Bearer " + user["token"]
        self.cert = user.get("client-certificate")
        self.key = user.get("client-key")
        if "client-certificate-data" in user:
            self.cert = self._file("client.crt", user["client-certificate-data"])
            self.key = self._file("client.key", user["client-key-data"])

    def _file(self, name, data):
        """Credentials given inline go to private files for the TLS context, removed at exit."""
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="ark-bench-")
            atexit.register(shutil.rmtree, self._tmp, True)
        path = os.path.join(self._tmp, name)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        os.chmod(path, 0o600)
        return path

    def connect(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        if self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.cert:
            ctx.load_cert_chain(self.cert, self.key)
        return Conn(self, http.client.HTTPSConnection(self.host, self.port, context=ctx, timeout=300))


class Conn:
    def __init__(self, cluster, conn):
        self.cluster, self.conn = cluster, conn

    def request(self, method, path, body=None, headers=None):
        all_headers = dict(self.cluster.headers)
        all_headers.update(headers or {})
        for attempt in range(8):
            try:
                self.conn.request(method, path, body=body, headers=all_headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                if attempt == 7:
                    raise
                time.sleep(0.2 * (attempt + 1))
                continue
            if resp.status == 429:
                time.sleep(float(resp.getheader("Retry-After") or 1))
                continue
            return resp.status, data
        raise RuntimeError(f"{method} {path}: throttled 8 times")

    def get_json(self, path):
        status, data = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {data[:200]!r}")
        return json.loads(data)


# --- what the cluster serves ----------------------------------------------------------------

def backed_up_types(conn):
    """(group_resource, api_path_prefix, namespaced) for every type ark backs up by default."""
    versions = [("", "/api/v1")]
    for group in conn.get_json("/apis")["groups"]:
        versions.append((group["name"], "/apis/" + group["preferredVersion"]["groupVersion"]))
    types = []
    for group, prefix in versions:
        for r in conn.get_json(prefix)["resources"]:
            verbs = set(r.get("verbs", []))
            if "/" in r["name"] or not {"list", "get", "create", "delete"} <= verbs:
                continue
            gr = r["name"] + ("." + group if group else "")
            if gr not in EXCLUDED:
                types.append((group, r["name"], gr, prefix, r["namespaced"]))
    served = {(g, r) for g, r, *_ in types}
    return [(gr, prefix, namespaced) for g, r, gr, prefix, namespaced in types
            if not any(old == g and res == r and (new, r) in served for old, new, res in COHABITING)]


# --- the objects ----------------------------------------------------------------------------

def words(rng, n):
    vocab = ["replicas", "timeout", "endpoint", "enabled", "region", "cache", "retries", "pool",
             "level", "format", "bucket", "queue", "port", "host", "path", "limit"]
    return " ".join(rng.choice(vocab) for _ in range(n))


def make_object(kind, ns, i):
    """The i-th object of a kind in namespace ns: deterministic, a few KiB where realistic."""
    rng = random.Random(f"{kind}/{i}")
    labels = {"app": f"app-{i % 7}", "tier": rng.choice(["web", "api", "worker"]), "bench": "ark"}
    meta = {"name": f"{kind[:-1]}-{i:04d}", "namespace": ns, "labels": labels}
    if kind == "configmaps":
        lines = [f"{words(rng, 2).replace(' ', '.')}.{k} = {rng.getrandbits(64):016x} {words(rng, 3)}"
                 for k in range(rng.randint(40, 80))]
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
                "data": {"app.properties": "\n".join(lines), "mode": rng.choice(["prod", "staging"])}}
    if kind == "secrets":
        blob = bytes(rng.getrandbits(8) for _ in range(rng.randint(1200, 2400)))
        return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque",
                "data": {"tls.key": base64.b64encode(blob).decode(),
                         "password": base64.b64encode(f"{rng.getrandbits(128):032x}".encode()).decode()}}
    if kind == "deployments":
        env = [{"name": f"SETTING_{k}", "value": f"{rng.getrandbits(40):010x}"} for k in range(12)]
        container = {"name": "app", "image": f"registry.example.com/team/app-{i % 13}:1.{i % 9}.0",
                     "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}], "env": env,
                     "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                     "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10}}
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                "spec": {"replicas": 0, "selector": {"matchLabels": {"app": meta["name"]}},
                         "template": {"metadata": {"labels": {"app": meta["name"], "tier": labels["tier"]}},
                                      "spec": {"containers": [container], "serviceAccountName": "default"}}}}
    if kind == "services":
        return {"apiVersion": "v1", "kind": "Service", "metadata": meta,
                # headless: the test cluster's service range (a /24) holds 254 cluster IPs
                "spec": {"clusterIP": "None", "selector": {"app": meta["name"]},
                         "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                                   {"name": "metrics", "port": 9090, "protocol": "TCP"}]}}
    if kind == "serviceaccounts":
        meta["annotations"] = {"example.com/owner": f"team-{i % 5}"}
        return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}
    if kind == "roles":
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta, "rules": [
            {"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "patch"]},
            {"apiGroups": [GROUP], "resources": ["widgets"], "verbs": ["*"]}]}
    if kind == "rolebindings":
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"role-{i:04d}"},
                "subjects": [{"kind": "ServiceAccount", "name": f"serviceaccount-{i:04d}", "namespace": ns}]}
    if kind == "widgets":
        return {"apiVersion": GROUP + "/v1", "kind": "Widget", "metadata": meta,
                "spec": {"size": rng.randint(1, 100), "color": rng.choice(["red", "green", "blue"]),
                         "description": words(rng, 40),
                         "parts": [{"id": f"{rng.getrandbits(32):08x}", "count": k} for k in range(10)]}}
    raise ValueError(kind)


def namespace_names(prefix, count):
    return [f"{prefix}-{k:04d}" for k in range(count)]


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets." + GROUP},
    "spec": {"group": GROUP, "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                 "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]},
}


def ensure_crd(conn):
    for _ in range(300):  # a server that has just started may not serve apiextensions yet
        status, data = conn.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                                    json.dumps(CRD), {"Content-Type": "application/json"})
        if status in (201, 409):
            break
        time.sleep(0.1)
    else:
        raise RuntimeError(f"create CRD: {status} {data[:300]!r}")
    for _ in range(300):
        crd = conn.get_json("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets." + GROUP)
        conditions = (crd.get("status") or {}).get("conditions") or []
        if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
            # discovery lags the condition a little
            status, _ = conn.request("GET", f"/apis/{GROUP}/v1")
            if status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("CRD widgets never became Established")


# --- running requests in parallel -----------------------------------------------------------

def next_job(jobs, counter):
    """Jobs are taken in order from one list every worker shares, so that a worker that drew
    small jobs takes more of them."""
    with counter.get_lock():
        k = counter.value
        counter.value += 1
    return jobs[k] if k < len(jobs) else None


def process_main(cluster, jobs, counter, work, threads, barrier, queue):
    totals = {"objects": 0, "bytes": 0, "requests": 0, "errors": 0}
    lock = threading.Lock()

    def worker():
        conn = cluster.connect()
        result = work(conn, iter(lambda: next_job(jobs, counter), None))
        with lock:
            for k, v in result.items():
                totals[k] += v

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    barrier.wait()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    queue.put(totals)


def measure(cluster, jobs, work, concurrency):
    """Runs work(conn, jobs) on `concurrency` connections spread over a few processes (so that
    the client's GIL is not what is measured); returns the totals and the wall time."""
    processes = min(4, concurrency)
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("q", 0)
    barrier = ctx.Barrier(processes + 1)
    queue = ctx.Queue()
    threads = [concurrency // processes + (1 if k < concurrency % processes else 0) for k in range(processes)]
    procs = [ctx.Process(target=process_main, args=(cluster, jobs, counter, work, t, barrier, queue))
             for t in threads]
    for p in procs:
        p.start()
    barrier.wait()
    start = time.monotonic()
    totals = {"objects": 0, "bytes": 0, "requests": 0, "errors": 0}
    for _ in procs:
        for k, v in queue.get().items():
            totals[k] += v
    seconds = time.monotonic() - start
    for p in procs:
        p.join()
    totals["seconds"] = round(seconds, 3)
    return totals


def post_objects(conn, jobs):
    out = {"objects": 0, "bytes": 0, "requests": 0, "errors": 0}
    for path, body in jobs:
        status, data = conn.request("POST", path, body, {"Content-Type": "application/json"})
        out["requests"] += 1
        out["bytes"] += len(body)
        if status in (200, 201):
            out["objects"] += 1
        else:
            out["errors"] += 1
            if out["errors"] == 1:
                print(f"POST {path}: {status} {data[:200]!r}", file=sys.stderr)
    return out


RESOURCE_VERSION = re.compile(rb'"resourceVersion":"')
CONTINUE = re.compile(rb'"continue":"([^"]+)"')


def list_pages(page_size, accept_gzip):
    headers = {"Accept": "application/json"}
    if accept_gzip:
        headers["Accept-Encoding"] = "gzip"

    def work(conn, jobs):
        out = {"objects": 0, "bytes": 0, "requests": 0, "errors": 0}
        for path in jobs:
            token = None
            while True:
                url = f"{path}?limit={page_size}" + (f"&continue={token}" if token else "")
                status, data = conn.request("GET", url, headers=headers)
                out["requests"] += 1
                out["bytes"] += len(data)
                if status != 200:
                    out["errors"] += 1
                    break
                if accept_gzip and data[:2] == b"\x1f\x8b":
                    # what a client must do with a gzipped page: the decompression is measured too
                    data = zlib.decompress(data, 47)
                # objects in the page: each carries one metadata.resourceVersion, the list one more
                out["objects"] += len(RESOURCE_VERSION.findall(data)) - 1
                # list metadata comes first from typed lists, last from custom resources' lists
                m = CONTINUE.search(data, 0, 4096) or CONTINUE.search(data, max(0, len(data) - 4096))
                if not m:
                    break
                token = m.group(1).decode()
        return out

    return work


# --- commands -------------------------------------------------------------------------------

def cmd_seed(args):
    cluster = Cluster()
    conn = cluster.connect()
    ensure_crd(conn)
    namespaces = namespace_names(args.prefix, args.namespaces)
    ns_jobs = [("/api/v1/namespaces", json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                                   "metadata": {"name": ns, "labels": {"bench": "ark"}}}))
               for ns in namespaces]
    jobs = []
    for kind, count in MIX:
        for ns in namespaces:
            for i in range(count):
                jobs.append((COLLECTIONS[kind].format(ns=ns), json.dumps(make_object(kind, ns, i))))
    first = measure(cluster, ns_jobs, post_objects, args.concurrency)
    second = measure(cluster, jobs, post_objects, args.concurrency)
    totals = {k: round(first[k] + second[k], 3) for k in first}
    print(json.dumps(totals))
    return 1 if totals["errors"] else 0


def cmd_list_limit(args):
    cluster = Cluster()
    conn = cluster.connect()
    jobs = []
    namespaces = []
    if args.per_namespace:
        namespaces = [n["metadata"]["name"] for n in conn.get_json("/api/v1/namespaces")["items"]]
    for _gr, prefix, namespaced in backed_up_types(conn):
        resource = _gr.split(".")[0]
        if namespaced and args.per_namespace:
            jobs += [f"{prefix}/namespaces/{ns}/{resource}" for ns in namespaces]
        else:
            jobs.append(f"{prefix}/{resource}")
    # the largest collections first, so the stragglers are small
    jobs.sort(key=lambda p: not any(r in p for r in ("configmaps", "secrets", "widgets", "deployments")))
    print(json.dumps(measure(cluster, jobs, list_pages(args.page_size, args.gzip), args.concurrency)))


def cmd_types(_args):
    conn = Cluster().connect()
    for gr, _prefix, namespaced in backed_up_types(conn):
        print(gr, "namespaced" if namespaced else "cluster")


SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "selfLink", "generation")


def cmd_kubectl_clean(args):
    """Turns `kubectl get -o json` dumps of FROM_PREFIX-* namespaces into creatable List files
    for TO_PREFIX-* namespaces, the way a dump-and-recreate script has to (not timed)."""
    os.makedirs(args.out_dir, exist_ok=True)
    count = 0
    for ns in sorted(os.listdir(args.dump_dir)):
        if not ns.startswith(args.from_prefix + "-"):
            continue
        target = args.to_prefix + ns[len(args.from_prefix):]
        items = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target, "labels": {"bench": "ark"}}}]
        for name in sorted(os.listdir(os.path.join(args.dump_dir, ns))):
            with open(os.path.join(args.dump_dir, ns, name)) as f:
                listed = json.load(f)
            for obj in listed.get("items", []):
                meta = obj["metadata"]
                if meta.get("ownerReferences"):
                    continue  # recreated by its controller
                if obj["kind"] == "ServiceAccount" and meta["name"] == "default":
                    continue  # the namespace gets its own
                if obj["kind"] == "Secret" and obj.get("type") == "kubernetes.io/service-account-token":
                    continue
                for field in SERVER_FIELDS:
                    meta.pop(field, None)
                meta.get("annotations", {}).pop("deployment.kubernetes.io/revision", None)
                meta["namespace"] = target
                obj.pop("status", None)
                if obj["kind"] == "Service" and obj["spec"].get("clusterIP") != "None":
                    obj["spec"].pop("clusterIP", None)
                    obj["spec"].pop("clusterIPs", None)
                if obj["kind"] == "RoleBinding":
                    for s in obj.get("subjects", []):
                        if s.get("namespace") == ns:
                            s["namespace"] = target
                items.append(obj)
        count += len(items)
        with open(os.path.join(args.out_dir, target + ".json"), "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)
    print(json.dumps({"objects": count}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed")
    s.add_argument("prefix")
    s.add_argument("namespaces", type=int)
    s.add_argument("--concurrency", type=int, default=32)
    s.set_defaults(func=cmd_seed)
    s = sub.add_parser("list-limit")
    s.add_argument("--page-size", type=int, default=500)
    s.add_argument("--per-namespace", action="store_true", help="one LIST per namespace and type")
    s.add_argument("--gzip", action="store_true", help="ask for gzip, as kube-rs and client-go do")
    s.add_argument("--concurrency", type=int, default=8)
    s.set_defaults(func=cmd_list_limit)
    s = sub.add_parser("types")
    s.set_defaults(func=cmd_types)
    s = sub.add_parser("kubectl-clean")
    for a in ("dump_dir", "out_dir", "from_prefix", "to_prefix"):
        s.add_argument(a)
    s.set_defaults(func=cmd_kubectl_clean)
    args = p.parse_args()
    sys.exit(args.func(args) or 0)


if __name__ == "__main__":
    main()
