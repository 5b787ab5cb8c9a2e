#!/usr/bin/python3
"""Checks deploy/kubernetes (docs/deploy.md) as far as a machine without Kubernetes can.

Usage: scripts/check-manifests.py [DIR]      (default deploy/kubernetes)
       scripts/check-manifests.py --selftest [DIR]

1. Every YAML document parses (python3-yaml).
2. Every Kubernetes object is checked against the API models of Debian's python3-kubernetes
   (22.6: Kubernetes 1.22): no unknown field at any depth, each value of its field's type, and
   the required fields present (the client's own deserializer). This is the client library's
   model of the API, not the API server's OpenAPI schema: admission rules, defaulting and
   value formats (quantities, label syntax) are not checked.
3. glint's own rules: hardened pods (non-root, no privilege escalation, read-only root, all
   capabilities dropped, a seccomp profile), probes on /readyz and /healthz, the worker's
   squat.ai/kvm resource matching the device plugin's device, references between objects
   (Services to pods and named ports, ConfigMaps, PVCs, the NATS URL's Service), the
   kustomization's file list, the Helm values, the Dockerfile's base and user.
--selftest breaks a copy of the manifests in known ways and checks that each is reported.
Prints one line per problem and "deploy: N objects in M files: ok" or exits 1.
"""
import copy
import json
import os
import re
import sys

import yaml
from kubernetes import client

# Run by Debian's python3 (/usr/bin/python3) so that python3-yaml and python3-kubernetes are
# the distribution's.

GLINT_NS = "glint"
NOT_KUSTOMIZED = {"kvm-device-plugin.yaml", "nats-helm-values.yaml", "kustomization.yaml"}


class Checker:
    def __init__(self):
        self.errors = []

    def err(self, where, msg):
        self.errors.append(f"{where}: {msg}")

    # ---- 2. the API models
    def typed(self, value, typ, path):
        if typ == "object":
            return
        if typ == "str":
            if not isinstance(value, str):
                self.err(path, f"expected a string, got {type(value).__name__} {value!r}")
            return
        if typ == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                self.err(path, f"expected an integer, got {value!r}")
            return
        if typ == "bool":
            if not isinstance(value, bool):
                self.err(path, f"expected true/false, got {value!r}")
            return
        if typ in ("float", "date", "datetime"):
            return
        m = re.fullmatch(r"list\[(.*)\]", typ)
        if m:
            if not isinstance(value, list):
                self.err(path, f"expected a list, got {type(value).__name__}")
                return
            for i, v in enumerate(value):
                self.typed(v, m.group(1), f"{path}[{i}]")
            return
        m = re.fullmatch(r"dict\(([^,]*), (.*)\)", typ)
        if m:
            if not isinstance(value, dict):
                self.err(path, f"expected a mapping, got {type(value).__name__}")
                return
            for k, v in value.items():
                self.typed(v, m.group(2), f"{path}.{k}")
            return
        cls = getattr(client, typ, None)
        if cls is None:
            self.err(path, f"no model {typ} in python3-kubernetes")
            return
        if not isinstance(value, dict):
            self.err(path, f"expected a mapping ({typ}), got {type(value).__name__}")
            return
        by_json = {j: a for a, j in cls.attribute_map.items()}
        for k, v in value.items():
            if k not in by_json:
                self.err(path, f"unknown field '{k}' in {typ}")
                continue
            self.typed(v, cls.openapi_types[by_json[k]], f"{path}.{k}")

    def model(self, doc, where):
        api, kind = doc.get("apiVersion"), doc.get("kind")
        version = api.split("/")[-1]
        name = version[0].upper() + version[1:] + kind
        cls = getattr(client, name, None)
        if cls is None:
            self.err(where, f"no model for {api} {kind} ({name}) in python3-kubernetes")
            return
        before = len(self.errors)
        self.typed(doc, name, where)
        if len(self.errors) > before:
            return
        try:  # required fields and enums, as the client library checks them
            client.ApiClient()._ApiClient__deserialize(copy.deepcopy(doc), name)
        except (ValueError, TypeError) as e:
            self.err(where, f"{name}: {e}")


def containers_of(obj):
    spec = obj["spec"]["template"]["spec"]
    return spec, spec.get("containers", [])


def named_ports(containers):
    return {p["name"]: p["containerPort"] for c in containers for p in c.get("ports", []) if "name" in p}


def check_pod_hardening(ck, where, spec, containers):
    psc = spec.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True:
        ck.err(where, "securityContext.runAsNonRoot must be true")
    if not psc.get("runAsUser"):
        ck.err(where, "securityContext.runAsUser must be a non-root uid")
    if psc.get("seccompProfile", {}).get("type") not in ("RuntimeDefault", "Localhost"):
        ck.err(where, "securityContext.seccompProfile.type must be RuntimeDefault or Localhost")
    if spec.get("automountServiceAccountToken") is not False:
        ck.err(where, "automountServiceAccountToken must be false (no pod here talks to the API)")
    for c in containers:
        cw = f"{where} container {c.get('name')}"
        sc = c.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation") is not False:
            ck.err(cw, "allowPrivilegeEscalation must be false")
        if sc.get("readOnlyRootFilesystem") is not True:
            ck.err(cw, "readOnlyRootFilesystem must be true")
        if sc.get("privileged"):
            ck.err(cw, "must not be privileged")
        if "ALL" not in sc.get("capabilities", {}).get("drop", []):
            ck.err(cw, "capabilities.drop must contain ALL")
        if sc.get("capabilities", {}).get("add"):
            ck.err(cw, "must add no capability")


def check_workload(ck, where, obj):
    spec, containers = containers_of(obj)
    sel = obj["spec"].get("selector", {}).get("matchLabels", {})
    labels = obj["spec"]["template"].get("metadata", {}).get("labels", {})
    if not sel or any(labels.get(k) != v for k, v in sel.items()):
        ck.err(where, "spec.selector.matchLabels must select the pod template's labels")
    ports = named_ports(containers)
    for c in containers:
        cw = f"{where} container {c.get('name')}"
        if not c.get("image"):
            ck.err(cw, "no image")
        req = c.get("resources", {}).get("requests", {})
        if "cpu" not in req or "memory" not in req:
            ck.err(cw, "resources.requests needs cpu and memory")
        for probe in ("readinessProbe", "livenessProbe"):
            port = c.get(probe, {}).get("httpGet", {}).get("port")
            if isinstance(port, str) and port not in ports:
                ck.err(cw, f"{probe} names port '{port}', which no container declares")
        for p in c.get("ports", []):
            if len(p.get("name", "")) > 15:
                ck.err(cw, f"port name '{p['name']}' is over 15 characters")
    for v in spec.get("volumes", []):
        if "configMap" in v:
            ck.configmap_refs.append((where, v["configMap"]["name"]))
    mounted = {m["name"] for c in containers for m in c.get("volumeMounts", [])}
    declared = {v["name"] for v in spec.get("volumes", [])}
    declared |= {t["metadata"]["name"] for t in obj["spec"].get("volumeClaimTemplates", [])}
    for m in sorted(mounted - declared):
        ck.err(where, f"volumeMount '{m}' has no volume")
    return spec, containers, labels, ports


def probe_path(c, probe):
    return c.get(probe, {}).get("httpGet", {}).get("path")


def check_glint(ck, objs, files, directory):
    by = {(o["kind"], o["metadata"]["name"]): (o, w) for o, w in objs}
    workloads = {}
    for (kind, name), (o, w) in by.items():
        ns = o["metadata"].get("namespace")
        if kind != "Namespace" and kind != "DaemonSet" and ns != GLINT_NS:
            ck.err(w, f"namespace must be {GLINT_NS}")
        if kind in ("Deployment", "StatefulSet", "DaemonSet"):
            workloads[name] = check_workload(ck, w, o)
            if ns == GLINT_NS:
                check_pod_hardening(ck, w, *containers_of(o))
    ns = by.get(("Namespace", GLINT_NS))
    if not ns:
        ck.err(directory, f"no Namespace {GLINT_NS}")
    elif ns[0]["metadata"].get("labels", {}).get("pod-security.kubernetes.io/enforce") != "restricted":
        ck.err(ns[1], "the namespace must enforce the restricted Pod Security Standard")
    for w, name in ck.configmap_refs:
        if ("ConfigMap", name) not in by:
            ck.err(w, f"ConfigMap '{name}' is not defined")

    # the device plugin: its device's name gives the worker's resource
    kvm_resource = None
    dp = by.get(("DaemonSet", "kvm-device-plugin"))
    if not dp:
        ck.err(directory, "no DaemonSet kvm-device-plugin")
    else:
        args = dp[0]["spec"]["template"]["spec"]["containers"][0].get("args", [])
        for i, a in enumerate(args[:-1]):
            if a == "--device":
                dev = yaml.safe_load(args[i + 1])
                paths = [p["path"] for g in dev.get("groups", []) for p in g.get("paths", [])]
                if "/dev/kvm" in paths:
                    kvm_resource = "squat.ai/" + dev["name"]
        if "--domain" in args:
            ck.err(dp[1], "a --domain changes the resource name: keep squat.ai")
        if not kvm_resource:
            ck.err(dp[1], "no --device with path /dev/kvm")

    services = {name: o for (kind, name), (o, _) in by.items() if kind == "Service"}

    def args_of(name):
        return workloads[name][1][0].get("args", []) if name in workloads else []

    def url_service(w, args, flag):
        if flag not in args:
            ck.err(w, f"args need {flag}")
            return
        url = args[args.index(flag) + 1]
        m = re.fullmatch(r"nats://([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?:(\d+)", url)
        if not m:
            ck.err(w, f"{flag} {url}: not nats://SERVICE.NAMESPACE.svc:PORT")
            return
        svc = services.get(m.group(1))
        if not svc or m.group(2) != GLINT_NS:
            ck.err(w, f"{flag} {url}: no Service {m.group(1)} in {GLINT_NS}")
        elif int(m.group(3)) not in [p["port"] for p in svc["spec"]["ports"]]:
            ck.err(w, f"{flag} {url}: Service {m.group(1)} has no port {m.group(3)}")

    for name, flag, kvm in (("glint-worker", "--nats", True), ("glint-gateway", "--forward", False)):
        if name not in workloads:
            ck.err(directory, f"no Deployment {name}")
            continue
        o, w = by[("Deployment", name)]
        c = workloads[name][1][0]
        if probe_path(c, "readinessProbe") != "/readyz":
            ck.err(w, "readinessProbe must be GET /readyz")
        if probe_path(c, "livenessProbe") != "/healthz":
            ck.err(w, "livenessProbe must be GET /healthz")
        args = args_of(name)
        if not args or args[0] != "serve" or "--listen" not in args:
            ck.err(w, "args must be 'serve ... --listen ADDR ...'")
        url_service(w, args, flag)
        res = c.get("resources", {})
        has = [res.get(k, {}).get(kvm_resource or "squat.ai/kvm") for k in ("requests", "limits")]
        if kvm and has != ["1", "1"]:
            ck.err(w, f"requests and limits need {kvm_resource}: \"1\" (got {has})")
        if not kvm and any(has):
            ck.err(w, "the gateway runs no guest code: it must not take /dev/kvm")
    if "glint-worker" in workloads:
        args = args_of("glint-worker")
        cm = by.get(("ConfigMap", "glint-functions"))
        if "--config" in args and cm:
            data = cm[0].get("data", {})
            path = args[args.index("--config") + 1]
            mounts = {m["mountPath"]: m["name"] for m in workloads["glint-worker"][1][0].get("volumeMounts", [])}
            key = os.path.basename(path)
            if mounts.get(os.path.dirname(path)) is None or key not in data:
                ck.err(cm[1], f"--config {path} is not a key of a mounted ConfigMap")
            else:
                try:
                    fns = json.loads(data[key])["functions"]
                except (ValueError, KeyError) as e:
                    ck.err(cm[1], f"{key}: not a glint config ({e})")
                    fns = []
                for i, f in enumerate(fns):
                    load = f.get("load")
                    if load and (os.path.dirname(load) != os.path.dirname(path) or os.path.basename(load) not in data):
                        ck.err(cm[1], f"{key}: functions[{i}].load {load} is not in the ConfigMap")
        elif "--config" in args:
            ck.err(by[("Deployment", "glint-worker")][1], "ConfigMap glint-functions is missing")

    # Services select pods and name their ports
    for name, svc in services.items():
        w = by[("Service", name)][1]
        sel = svc["spec"].get("selector", {})
        target = [n for n, (_, _, labels, _) in workloads.items() if sel and all(labels.get(k) == v for k, v in sel.items())]
        if not target:
            ck.err(w, "its selector matches no pod template")
            continue
        ports = workloads[target[0]][3]
        for p in svc["spec"]["ports"]:
            tp = p.get("targetPort", p["port"])
            if isinstance(tp, str) and tp not in ports:
                ck.err(w, f"targetPort '{tp}' is not a named port of {target[0]}")
    sts = by.get(("StatefulSet", "nats"))
    if not sts:
        ck.err(directory, "no StatefulSet nats")
    else:
        o, w = sts
        head = services.get(o["spec"].get("serviceName"))
        if not head or head["spec"].get("clusterIP") != "None":
            ck.err(w, "serviceName must name a headless Service")
        if not o["spec"].get("volumeClaimTemplates"):
            ck.err(w, "JetStream needs a PersistentVolumeClaim (volumeClaimTemplates)")
        conf = by.get(("ConfigMap", "nats-config"), ({}, ""))[0].get("data", {}).get("nats.conf", "")
        if "jetstream" not in conf or "store_dir" not in conf:
            ck.err(w, "nats.conf must enable JetStream with a store_dir on the PVC")

    # the kustomization and the Helm values
    kust = os.path.join(directory, "kustomization.yaml")
    if os.path.exists(kust):
        with open(kust) as f:
            listed = yaml.safe_load(f).get("resources", [])
        for r in listed:
            if not os.path.exists(os.path.join(directory, r)):
                ck.err(kust, f"resource {r} does not exist")
        for f in files:
            b = os.path.basename(f)
            if b not in NOT_KUSTOMIZED and b not in listed:
                ck.err(kust, f"{b} is not listed in resources")
    helm = os.path.join(directory, "nats-helm-values.yaml")
    if os.path.exists(helm):
        with open(helm) as f:
            v = yaml.safe_load(f)
        js = v.get("config", {}).get("jetstream", {})
        if js.get("enabled") is not True or js.get("fileStore", {}).get("pvc", {}).get("enabled") is not True:
            ck.err(helm, "config.jetstream must be enabled with a file store on a PVC")

    # the image
    dockerfile = os.path.join(os.path.dirname(directory.rstrip("/")), "Dockerfile")
    if not os.path.exists(dockerfile):
        ck.err(dockerfile, "missing")
    else:
        with open(dockerfile) as f:
            text = f.read()
        froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
        users = re.findall(r"^USER\s+(\d+)", text, re.M)
        if not froms or any(not f.startswith("debian:12") for f in froms):
            ck.err(dockerfile, f"every stage must be Debian 12 based (FROM {froms})")
        uids = {o["spec"]["template"]["spec"]["securityContext"].get("runAsUser")
                for o, _ in objs if o["metadata"]["name"] in ("glint-worker", "glint-gateway")}
        if not users or {int(users[-1])} != uids:
            ck.err(dockerfile, f"USER {users[-1:] or '-'} must be the pods' runAsUser {sorted(uids)}")


def load(directory, ck):
    files = sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".yaml"))
    objs = []
    for path in files:
        try:
            with open(path) as f:
                docs = list(yaml.safe_load_all(f))
        except yaml.YAMLError as e:
            ck.err(path, f"not YAML: {e}")
            continue
        base = os.path.basename(path)
        if base in ("kustomization.yaml", "nats-helm-values.yaml"):
            continue
        for i, d in enumerate(docs):
            if d is None:
                continue
            where = f"{base}[{i}]"
            if not isinstance(d, dict) or not d.get("apiVersion") or not d.get("kind") or not d.get("metadata", {}).get("name"):
                ck.err(where, "needs apiVersion, kind and metadata.name")
                continue
            where = f"{base}[{i}] {d['kind']}/{d['metadata']['name']}"
            objs.append((d, where))
    return files, objs


def check(directory, objs=None, files=None):
    ck = Checker()
    ck.configmap_refs = []
    if objs is None:
        files, objs = load(directory, ck)
    for o, w in objs:
        ck.model(o, w)
    if not ck.errors:
        check_glint(ck, objs, files, directory)
    return ck, files, objs


def selftest(directory):
    ck, files, objs = check(directory)
    if ck.errors:
        print("\n".join(ck.errors))
        return 1

    def worker(o):
        return o[0]["metadata"]["name"] == "glint-worker"

    def breaks(name, mutate, want):
        bad = copy.deepcopy(objs)
        mutate(bad)
        got = check(directory, bad, files)[0].errors
        ok = any(re.search(want, e) for e in got)
        print(f"{'ok' if ok else 'FAIL'} selftest {name}" + ("" if ok else f": want /{want}/, got {got}"))
        return ok

    def c0(bad):
        return next(o for o in bad if worker(o))[0]["spec"]["template"]["spec"]["containers"][0]

    cases = [
        ("unknown-field", lambda b: c0(b).__setitem__("imagePullPolicyy", "Always"), "unknown field 'imagePullPolicyy'"),
        ("wrong-type", lambda b: c0(b)["ports"][0].__setitem__("containerPort", "8080"), "expected an integer"),
        ("missing-required", lambda b: c0(b).pop("name"), "name"),
        ("writable-root", lambda b: c0(b)["securityContext"].pop("readOnlyRootFilesystem"), "readOnlyRootFilesystem"),
        ("caps-kept", lambda b: c0(b)["securityContext"].__setitem__("capabilities", {}), "drop must contain ALL"),
        ("no-kvm", lambda b: c0(b)["resources"]["limits"].pop("squat.ai/kvm"), "squat.ai/kvm"),
        ("readiness", lambda b: c0(b)["readinessProbe"]["httpGet"].__setitem__("path", "/healthz"), "/readyz"),
        ("bad-port-name", lambda b: c0(b)["readinessProbe"]["httpGet"].__setitem__("port", "web"), "names port 'web'"),
        ("bad-nats-url", lambda b: c0(b)["args"].__setitem__(2, "nats://nowhere.glint.svc:4222"), "no Service nowhere"),
    ]
    results = [breaks(*c) for c in cases]
    print(f"deploy selftest: {sum(results)} of {len(results)} broken copies reported")
    return 0 if all(results) else 1


def main(argv):
    st = len(argv) > 1 and argv[1] == "--selftest"
    rest = argv[2:] if st else argv[1:]
    directory = rest[0] if rest else "deploy/kubernetes"
    if st:
        return selftest(directory)
    ck, files, objs = check(directory)
    for e in ck.errors:
        print(e)
    if ck.errors:
        print(f"deploy: {len(ck.errors)} problems")
        return 1
    print(f"deploy: {len(objs)} objects in {len(files)} files: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
