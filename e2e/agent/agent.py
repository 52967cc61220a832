#!/usr/bin/env python3
"""duckgate e2e node agent: a small test kubelet (and kube-proxy) for the e2e control plane.

It registers a Node (Ready, with allocatable capacity, so the scheduler binds pods to it) and runs
every container of the pods bound to it as a local process, exactly from the pod spec:

* Image: mapped to local files by --images (a JSON list; see IMAGES below): directories put in
  front of PATH, the image's entrypoint/cmd/user/workdir, and image directories (e.g. the DuckDB
  extensions at /opt/duckgate/extensions) bind-mounted where the image has them. An image that no
  entry matches stays `waiting: ErrImagePull`, as in a cluster without that image.
* Filesystem: each container process runs in a private mount namespace (e2e/agent/launch.py)
  in which every volume is bind-mounted at its mountPath (ConfigMap, Secret, projected incl. the
  service account token, downwardAPI, emptyDir, hostPath), /etc/hosts is the pod's own, and the
  root file system is read-only when the container says readOnlyRootFilesystem. Paths are the
  pod spec's; nothing is rewritten. ConfigMap/Secret volumes are written like the kubelet's
  atomic writer (..data symlink swap) and refreshed when the objects change, so certificate and
  token rotations reach running processes. Mount points that do not exist on the host are
  created there as empty directories (and removed on exit when still empty).
* Identity: runAsUser/runAsGroup/fsGroup/supplementalGroups (or the image's user), no_new_privs
  unless allowPrivilegeEscalation, runAsNonRoot enforced, host name = pod name.
* Network: each pod gets its own local address, reported as status.podIP: 198.18.0.<n>, from
  the RFC 2544 benchmarking range, which the agent makes local to this host with one route
  (`ip route add local 198.18.0.0/24 dev lo`, removed on exit). Not 127.0.0.<n>: the API server
  refuses loopback addresses in EndpointSlices, so Services would never get endpoints. An
  LD_PRELOAD shim (bindshim.c) turns the process's wildcard binds into binds to that address, so
  every pod can listen on the same containerPort. Pods reach Services through a userspace
  service proxy (like kube-proxy's old userspace mode): every Service with a cluster IP gets a
  loopback address (127.0.1.<n>) listening on its ports and forwarding each connection to a ready
  endpoint from its EndpointSlices; each pod's /etc/hosts maps the Service's DNS names
  (<svc>.<ns>.svc.<domain>, <svc>.<ns>.svc, <svc>.<ns>, and <svc> in its own namespace) to it.
  In-cluster API clients get KUBERNETES_SERVICE_HOST/PORT of the real API server (127.0.0.1).
* Status: phase, conditions (PodReadyToStartContainers, Initialized, ContainersReady, Ready),
  podIP(s), hostIP(s), startTime and per-container state/ready/started/restartCount, from the
  processes and from the pod's own startup/liveness/readiness probes (httpGet, tcpSocket, exec).
  Restart policy with back-off (1 s doubling to 30 s: faster than the kubelet's 10 s to 5 min).
* Deletion: a pod with a deletionTimestamp gets SIGTERM, then SIGKILL (its whole process group)
  after its grace period, its final status, and is then deleted for good (grace 0, uid
  precondition), as the kubelet does. A pod that vanishes is killed at once.

State for tests: <state-dir>/pods.json (each pod's IP and container pids) and services.json
(each Service's proxy address), rewritten on change; logs under <state-dir>/logs/.

IMAGES (--images FILE): [{"match": "duckgate/duckgate-gateway:*",   # fnmatch on the image
                          "path": ["/dir/with/binaries"],          # prepended to PATH
                          "entrypoint": ["duckgate-gateway"], "cmd": [],
                          "user": 65532, "workingDir": "/",
                          "env": {"K": "V"},
                          "mounts": {"/opt/duckgate/extensions": "/host/dir"}}]
Only the standard library is used. Run as root.
"""

import argparse
import base64
import datetime
import fnmatch
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse

from tcp_relay import pump  # the same byte pump the relay image runs (same directory)

HERE = os.path.dirname(os.path.abspath(__file__))
AGENT_VERSION = "duckgate-e2e-agent/1"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def now_rfc3339(t=None):
    t = time.time() if t is None else t
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def log(msg):
    sys.stderr.write(f"{time.strftime('%H:%M:%S')} agent: {msg}\n")
    sys.stderr.flush()


# ----------------------------------------------------------------------------------------------
# API client


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


class Kube:
    """A minimal JSON client of the API server with client-certificate authentication."""

    def __init__(self, server, ca, cert, key):
        u = urllib.parse.urlparse(server)
        self.host, self.port = u.hostname, u.port or 443
        self.ctx = ssl.create_default_context(cafile=ca)
        self.ctx.load_cert_chain(cert, key)
        self.local = threading.local()

    def _conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=30)
            self.local.conn = c
        return c

    def request(self, method, path, body=None, content_type="application/json", query=None):
        if query:
            path += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        for attempt in range(2):
            c = self._conn()
            try:
                c.request(method, path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                break
            except (OSError, http.client.HTTPException):
                self.local.conn = None
                c.close()
                if attempt == 1:
                    raise
        text = raw.decode("utf-8", "replace")
        if r.status >= 400:
            raise ApiError(r.status, text)
        return json.loads(text) if text else None

    def get(self, path, query=None):
        return self.request("GET", path, query=query)

    def get_opt(self, path):
        try:
            return self.get(path)
        except ApiError as e:
            if e.status == 404:
                return None
            raise

    def merge_patch(self, path, body):
        return self.request("PATCH", path, body, "application/merge-patch+json")


# ----------------------------------------------------------------------------------------------
# Volumes: the kubelet's atomic writer


def write_atomic(target, files, mode_default, gid):
    """Make directory `target` hold exactly `files` ({relative path: (bytes, mode or None)}) the
    way the kubelet's atomic writer does: the files live in a timestamped directory, `..data`
    points to it, and each top-level name is a symlink through `..data`. Returns True when the
    content changed."""
    os.makedirs(target, exist_ok=True)
    os.chmod(target, 0o755)
    data_link = os.path.join(target, "..data")
    current = None
    if os.path.islink(data_link):
        current = os.path.join(target, os.readlink(data_link))
        same = True
        existing = {}
        for root, _dirs, names in os.walk(current):
            for n in names:
                p = os.path.join(root, n)
                existing[os.path.relpath(p, current)] = p
        if set(existing) != set(files):
            same = False
        else:
            for rel, (content, mode) in files.items():
                p = existing[rel]
                want_mode = mode if mode is not None else mode_default
                st = os.stat(p)
                if (st.st_mode & 0o7777) != want_mode or open(p, "rb").read() != content:
                    same = False
                    break
        if same:
            return False
    stamp = "..%s.%06d" % (time.strftime("%Y_%m_%d_%H_%M_%S"), random.randrange(10**6))
    new = os.path.join(target, stamp)
    os.makedirs(new)
    os.chmod(new, 0o755)
    for rel, (content, mode) in files.items():
        p = os.path.join(new, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(content)
        os.chmod(p, mode if mode is not None else mode_default)
        if gid is not None:
            os.chown(p, 0, gid)
    tmp_link = os.path.join(target, "..data_tmp")
    if os.path.lexists(tmp_link):
        os.unlink(tmp_link)
    os.symlink(stamp, tmp_link)
    os.rename(tmp_link, data_link)
    tops = {rel.split("/", 1)[0] for rel in files}
    for name in tops:
        link = os.path.join(target, name)
        if not os.path.lexists(link):
            os.symlink(os.path.join("..data", name), link)
    for name in os.listdir(target):
        if name.startswith(".."):
            continue
        if name not in tops:
            p = os.path.join(target, name)
            if os.path.islink(p):
                os.unlink(p)
    if current and os.path.isdir(current):
        shutil.rmtree(current, ignore_errors=True)
    return True


class MissingObject(Exception):
    pass


# ----------------------------------------------------------------------------------------------
# Containers


class ContainerRun:
    """One container of a pod: its process, state, restarts and probes."""

    def __init__(self, pod, spec, init=False):
        self.pod = pod
        self.spec = spec
        self.name = spec["name"]
        self.init = init
        self.proc = None
        self.pid = None
        self.state = "waiting"
        self.waiting_reason = "ContainerCreating"
        self.waiting_message = ""
        self.started_at = None
        self.finished_at = None
        self.exit_code = None
        self.term_reason = None
        self.restart_count = 0
        self.last_terminated = None
        self.ready = False
        self.started = False
        self.next_start = 0.0
        self.backoff = 1.0
        self.kill_requested = None  # reason
        self.probe_stop = None
        self.log_path = None
        self.ever_started = False
        self.restart_reason = None  # set by the probes: liveness or startup failed

    def restart_requested(self):
        return self.restart_reason is not None

    # -- status

    def status(self, image):
        cid = f"duckgate-e2e://{self.pod.uid}/{self.name}/{self.restart_count}"
        st = {
            "name": self.name,
            "image": image,
            "imageID": f"duckgate-e2e://{image}",
            "ready": self.ready,
            "restartCount": self.restart_count,
            "started": self.started if not self.init else self.state == "running",
        }
        if self.state == "running":
            st["state"] = {"running": {"startedAt": now_rfc3339(self.started_at)}}
            st["containerID"] = cid
        elif self.state == "terminated":
            t = {"exitCode": self.exit_code, "reason": self.term_reason or ("Completed" if self.exit_code == 0 else "Error"),
                 "startedAt": now_rfc3339(self.started_at), "finishedAt": now_rfc3339(self.finished_at),
                 "containerID": cid}
            st["state"] = {"terminated": t}
            st["containerID"] = cid
        else:
            w = {"reason": self.waiting_reason}
            if self.waiting_message:
                w["message"] = self.waiting_message[:1000]
            st["state"] = {"waiting": w}
        if self.last_terminated:
            st["lastState"] = {"terminated": self.last_terminated}
        return st

    def running(self):
        return self.proc is not None and self.proc.poll() is None


class PodWorker(threading.Thread):
    def __init__(self, agent, pod):
        super().__init__(daemon=True, name=f"pod-{pod['metadata']['name']}")
        self.agent = agent
        self.lock = threading.Lock()
        self.pod = pod
        md = pod["metadata"]
        self.uid, self.ns, self.name = md["uid"], md["namespace"], md["name"]
        self.dir = os.path.join(agent.state_dir, "pods", f"{self.ns}_{self.name}_{self.uid[:8]}")
        self.log_dir = os.path.join(agent.state_dir, "logs", f"{self.ns}_{self.name}_{self.uid[:8]}")
        self.vanished = False
        self.ip = None
        self.start_time = None
        self.sandbox_ready = False
        self.volumes = {}  # name -> host dir
        self.last_volume_sync = 0.0
        self.token_cache = {}  # (sa, aud, exp) -> (token, refresh_at)
        spec = pod["spec"]
        self.inits = [ContainerRun(self, c, init=True) for c in spec.get("initContainers", [])]
        self.containers = [ContainerRun(self, c) for c in spec.get("containers", [])]
        self.conditions = {}
        self.last_status = None
        self.terminal_phase = None
        self.last_sync_error = None

    # -- called by the agent's sync loop

    def update(self, pod):
        with self.lock:
            self.pod = pod

    def vanish(self):
        self.vanished = True

    def snapshot(self):
        with self.lock:
            return self.pod

    # -- main loop

    def run(self):
        try:
            self.loop()
        except Exception:
            log(f"pod {self.ns}/{self.name}: worker crashed:\n{traceback.format_exc()}")
            self.kill_all(signal.SIGKILL)
        finally:
            self.cleanup()
            self.agent.worker_done(self)

    def loop(self):
        os.makedirs(self.dir, exist_ok=True)
        os.makedirs(self.log_dir, exist_ok=True)
        while True:
            pod = self.snapshot()
            if self.vanished:
                log(f"pod {self.ns}/{self.name} is gone from the API: killing its processes")
                self.kill_all(signal.SIGKILL)
                return
            if pod["metadata"].get("deletionTimestamp"):
                self.terminate(pod)
                return
            try:
                self.sync(pod)
                self.last_sync_error = None
            except ApiError as e:
                if self.last_sync_error != str(e):
                    log(f"pod {self.ns}/{self.name}: {e}")
                self.last_sync_error = str(e)
            time.sleep(0.2)

    # -- sandbox

    def setup_sandbox(self, pod):
        if self.ip is None:
            self.ip = self.agent.allocate_ip(self.uid)
            self.start_time = time.time()
            log(f"pod {self.ns}/{self.name}: ip {self.ip}")
        self.write_hosts()
        self.sync_volumes(pod, force=True)
        self.sandbox_ready = True

    def write_hosts(self):
        lines = ["# Kubernetes-managed hosts file (duckgate e2e agent).",
                 "127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
                 f"{self.ip}\t{self.name}", ""]
        for (ns, svc), entry in sorted(self.agent.service_table().items()):
            d = self.agent.cluster_domain
            names = [f"{svc}.{ns}.svc.{d}", f"{svc}.{ns}.svc", f"{svc}.{ns}"]
            if ns == self.ns:
                names.append(svc)
            lines.append(f"{entry}\t{' '.join(names)}")
        text = "\n".join(lines) + "\n"
        path = os.path.join(self.dir, "hosts")
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            # In place (same inode): the file is bind-mounted into running containers.
            with open(path, "a+") as f:
                f.seek(0)
                f.truncate()
                f.write(text)
            os.chmod(path, 0o644)

    def fs_group(self, pod):
        return (pod["spec"].get("securityContext") or {}).get("fsGroup")

    def get_object(self, kind, name, optional):
        path = f"/api/v1/namespaces/{self.ns}/{'secrets' if kind == 'Secret' else 'configmaps'}/{name}"
        obj = self.agent.kube.get_opt(path)
        if obj is None:
            if optional:
                return None
            raise MissingObject(f'{kind.lower()} "{name}" not found')
        return obj

    @staticmethod
    def object_data(kind, obj):
        out = {}
        if obj is None:
            return out
        if kind == "Secret":
            for k, v in (obj.get("data") or {}).items():
                out[k] = base64.b64decode(v)
        else:
            for k, v in (obj.get("data") or {}).items():
                out[k] = v.encode()
            for k, v in (obj.get("binaryData") or {}).items():
                out[k] = base64.b64decode(v)
        return out

    def project_items(self, kind, name, items, optional, files):
        obj = self.get_object(kind, name, optional)
        data = self.object_data(kind, obj)
        if items:
            for it in items:
                if it["key"] not in data:
                    if optional:
                        continue
                    raise MissingObject(f'{kind.lower()} "{name}" has no key "{it["key"]}"')
                files[it["path"]] = (data[it["key"]], it.get("mode"))
        else:
            for k, v in data.items():
                files[k] = (v, None)

    def field_value(self, pod, path):
        md = pod["metadata"]
        m = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
        if m:
            return (md.get(m.group(1)) or {}).get(m.group(2), "")
        simple = {
            "metadata.name": md["name"], "metadata.namespace": md["namespace"], "metadata.uid": md["uid"],
            "spec.nodeName": pod["spec"].get("nodeName", ""),
            "spec.serviceAccountName": pod["spec"].get("serviceAccountName", ""),
            "status.hostIP": "127.0.0.1", "status.hostIPs": "127.0.0.1",
            "status.podIP": self.ip or "", "status.podIPs": self.ip or "",
        }
        if path in simple:
            return simple[path]
        if path in ("metadata.labels", "metadata.annotations"):
            d = md.get(path.split(".")[1]) or {}
            return "\n".join(f'{k}="{v}"' for k, v in sorted(d.items()))
        raise MissingObject(f"unsupported fieldRef {path}")

    def sa_token(self, pod, aud, exp):
        sa = pod["spec"].get("serviceAccountName") or "default"
        key = (sa, aud, exp)
        cached = self.token_cache.get(key)
        if cached and time.time() < cached[1]:
            return cached[0]
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "spec": {"expirationSeconds": exp,
                         "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": self.name, "uid": self.uid}}}
        if aud:
            body["spec"]["audiences"] = [aud]
        r = self.agent.kube.request("POST", f"/api/v1/namespaces/{self.ns}/serviceaccounts/{sa}/token", body)
        token = r["status"]["token"]
        self.token_cache[key] = (token, time.time() + exp * 0.8)
        return token

    def render_volume(self, pod, vol):
        """{relative path: (bytes, mode)} of a ConfigMap/Secret/projected/downwardAPI volume."""
        files = {}
        if "secret" in vol:
            s = vol["secret"]
            self.project_items("Secret", s["secretName"], s.get("items"), s.get("optional", False), files)
            return files, s.get("defaultMode", 0o644)
        if "configMap" in vol:
            c = vol["configMap"]
            self.project_items("ConfigMap", c["name"], c.get("items"), c.get("optional", False), files)
            return files, c.get("defaultMode", 0o644)
        if "downwardAPI" in vol:
            d = vol["downwardAPI"]
            for it in d.get("items", []):
                if "fieldRef" in it:
                    files[it["path"]] = (self.field_value(pod, it["fieldRef"]["fieldPath"]).encode(), it.get("mode"))
            return files, d.get("defaultMode", 0o644)
        if "projected" in vol:
            p = vol["projected"]
            for src in p.get("sources") or []:
                if "secret" in src:
                    s = src["secret"]
                    self.project_items("Secret", s["name"], s.get("items"), s.get("optional", False), files)
                elif "configMap" in src:
                    c = src["configMap"]
                    self.project_items("ConfigMap", c["name"], c.get("items"), c.get("optional", False), files)
                elif "downwardAPI" in src:
                    for it in src["downwardAPI"].get("items", []):
                        if "fieldRef" in it:
                            files[it["path"]] = (self.field_value(pod, it["fieldRef"]["fieldPath"]).encode(), it.get("mode"))
                elif "serviceAccountToken" in src:
                    t = src["serviceAccountToken"]
                    tok = self.sa_token(pod, t.get("audience"), int(t.get("expirationSeconds", 3600)))
                    files[t["path"]] = (tok.encode(), None)
                else:
                    raise MissingObject(f"unsupported projected source {list(src)}")
            return files, p.get("defaultMode", 0o644)
        raise MissingObject(f"unsupported volume type {[k for k in vol if k != 'name']}")

    def sync_volumes(self, pod, force=False):
        if not force and time.time() - self.last_volume_sync < 1.0:
            return
        self.last_volume_sync = time.time()
        gid = self.fs_group(pod)
        for vol in pod["spec"].get("volumes") or []:
            name = vol["name"]
            d = os.path.join(self.dir, "volumes", name)
            if "emptyDir" in vol:
                if name not in self.volumes:
                    os.makedirs(d, exist_ok=True)
                    os.chmod(d, 0o777)
                    if gid is not None:
                        os.chown(d, 0, gid)
                        os.chmod(d, 0o2777)
                    self.volumes[name] = d
                continue
            if "hostPath" in vol:
                self.volumes[name] = vol["hostPath"]["path"]
                continue
            if "persistentVolumeClaim" in vol:
                raise MissingObject("persistentVolumeClaim volumes are not supported by the e2e agent")
            files, mode = self.render_volume(pod, vol)
            changed = write_atomic(d, files, mode, gid)
            if changed and name in self.volumes:
                log(f"pod {self.ns}/{self.name}: volume {name} updated")
            self.volumes[name] = d

    # -- containers

    def resolve_env(self, pod, c, image):
        env = {}

        def expand(s):
            return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), s)

        env["PATH"] = ":".join(image.get("path", []) + [DEFAULT_PATH])
        for k, v in (image.get("env") or {}).items():
            env[k] = v
        env["HOSTNAME"] = self.name
        env["KUBERNETES_SERVICE_HOST"] = self.agent.api_host
        env["KUBERNETES_SERVICE_PORT"] = str(self.agent.api_port)
        env["KUBERNETES_SERVICE_PORT_HTTPS"] = str(self.agent.api_port)
        for ef in c.get("envFrom") or []:
            prefix = ef.get("prefix", "")
            if "configMapRef" in ef:
                r = ef["configMapRef"]
                data = self.object_data("ConfigMap", self.get_object("ConfigMap", r["name"], r.get("optional", False)))
            else:
                r = ef["secretRef"]
                data = self.object_data("Secret", self.get_object("Secret", r["name"], r.get("optional", False)))
            for k, v in data.items():
                env[prefix + k] = v.decode()
        for e in c.get("env") or []:
            if "valueFrom" not in e:
                env[e["name"]] = expand(e.get("value", ""))
                continue
            vf = e["valueFrom"]
            if "fieldRef" in vf:
                env[e["name"]] = self.field_value(pod, vf["fieldRef"]["fieldPath"])
            elif "secretKeyRef" in vf or "configMapKeyRef" in vf:
                kind = "Secret" if "secretKeyRef" in vf else "ConfigMap"
                r = vf["secretKeyRef"] if kind == "Secret" else vf["configMapKeyRef"]
                data = self.object_data(kind, self.get_object(kind, r["name"], r.get("optional", False)))
                if r["key"] in data:
                    env[e["name"]] = data[r["key"]].decode()
                elif not r.get("optional", False):
                    raise MissingObject(f'couldn\'t find key {r["key"]} in {kind} {self.ns}/{r["name"]}')
            elif "resourceFieldRef" in vf:
                res = vf["resourceFieldRef"]["resource"]
                kind, what = res.split(".", 1)
                val = ((c.get("resources") or {}).get(kind) or {}).get(what)
                env[e["name"]] = str(val) if val is not None else "0"
        if not env.get("HOME"):
            env["HOME"] = "/root" if self.user_of(pod, c, image)[0] == 0 else "/"
        env["LD_PRELOAD"] = self.agent.shim
        env["DUCKGATE_POD_IP"] = self.ip
        return env, expand

    def user_of(self, pod, c, image):
        psc = pod["spec"].get("securityContext") or {}
        csc = c.get("securityContext") or {}
        uid = csc.get("runAsUser", psc.get("runAsUser", image.get("user", 0)))
        gid = csc.get("runAsGroup", psc.get("runAsGroup", image.get("group", uid if image.get("user") is not None else 0)))
        groups = [gid]
        if psc.get("fsGroup") is not None:
            groups.append(psc["fsGroup"])
        groups += psc.get("supplementalGroups") or []
        return int(uid), int(gid), sorted(set(int(g) for g in groups))

    def ensure_mount_point(self, target, is_dir):
        """Create a missing mount point on the host (every missing level is recorded, so the
        agent removes them again on exit while they are empty)."""
        with self.agent.mount_lock:
            self._ensure_mount_point(target, is_dir)

    def _ensure_mount_point(self, target, is_dir):
        if os.path.lexists(target):
            return
        missing = []
        d = os.path.dirname(target)
        while d and d != "/" and not os.path.lexists(d):
            missing.append(d)
            d = os.path.dirname(d)
        for d in reversed(missing):
            os.mkdir(d)
            self.agent.created_mount_point(d)
        if is_dir:
            os.mkdir(target)
        else:
            open(target, "a").close()
        self.agent.created_mount_point(target)

    def start_container(self, pod, cr):
        c = cr.spec
        image = self.agent.image_for(c.get("image", ""))
        if image is None:
            cr.state, cr.waiting_reason = "waiting", "ErrImagePull"
            cr.waiting_message = f'image "{c.get("image")}" is not mapped to local files (agent --images)'
            return False
        csc = c.get("securityContext") or {}
        psc = pod["spec"].get("securityContext") or {}
        uid, gid, groups = self.user_of(pod, c, image)
        if csc.get("runAsNonRoot", psc.get("runAsNonRoot")) and uid == 0:
            cr.state, cr.waiting_reason = "waiting", "CreateContainerConfigError"
            cr.waiting_message = "container has runAsNonRoot and image will run as root"
            return False
        try:
            env, expand = self.resolve_env(pod, c, image)
        except MissingObject as e:
            cr.state, cr.waiting_reason, cr.waiting_message = "waiting", "CreateContainerConfigError", str(e)
            return False
        if c.get("command"):
            argv = [expand(a) for a in c["command"]] + [expand(a) for a in c.get("args") or []]
        else:
            argv = list(image.get("entrypoint") or []) + (
                [expand(a) for a in c["args"]] if c.get("args") is not None else list(image.get("cmd") or []))
        mounts = []
        for dst, src in (image.get("mounts") or {}).items():
            self.ensure_mount_point(dst, os.path.isdir(src))
            mounts.append({"source": src, "target": dst, "readOnly": True})
        for vm in c.get("volumeMounts") or []:
            src = self.volumes.get(vm["name"])
            if src is None:
                cr.state, cr.waiting_reason = "waiting", "CreateContainerConfigError"
                cr.waiting_message = f'volume "{vm["name"]}" is not ready'
                return False
            if vm.get("subPath"):
                src = os.path.realpath(os.path.join(src, vm["subPath"]))
            self.ensure_mount_point(vm["mountPath"], os.path.isdir(src))
            mounts.append({"source": src, "target": vm["mountPath"], "readOnly": bool(vm.get("readOnly"))})
        mounts.append({"source": os.path.join(self.dir, "hosts"), "target": "/etc/hosts", "readOnly": True})
        # The shim and the image's binaries are used by path after the mounts: no mount may hide them.
        for needed in [self.agent.shim] + list(image.get("path") or []):
            for m in mounts:
                t = m["target"].rstrip("/") + "/"
                if needed.startswith(t):
                    cr.state, cr.waiting_reason = "waiting", "CreateContainerConfigError"
                    cr.waiting_message = f"mount {m['target']} would hide the agent's {needed}: use another --state-dir"
                    return False
        # Parents before children (as container runtimes order them): /var/lib/duckgate, then
        # /var/lib/duckgate/volumes/x.
        mounts.sort(key=lambda m: m["target"].rstrip("/").count("/"))
        spec = {
            "hostMountNamespace": self.agent.host_mnt_ns,
            "mounts": mounts,
            "readOnlyRoot": bool(csc.get("readOnlyRootFilesystem")),
            "hostname": self.name,
            "workingDir": c.get("workingDir") or image.get("workingDir") or "/",
            "uid": uid, "gid": gid, "groups": groups,
            "noNewPrivs": csc.get("allowPrivilegeEscalation") is False or uid != 0,
            "argv": argv, "env": env,
        }
        spec_path = os.path.join(self.dir, f"{cr.name}.launch.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f, indent=1)
        os.chmod(spec_path, 0o600)
        cr.log_path = os.path.join(self.log_dir, f"{cr.name}-{cr.restart_count}.log")
        logf = open(cr.log_path, "ab")
        cmd = ["unshare", "--mount", "--uts", "--propagation", "private", "--",
               sys.executable, os.path.join(HERE, "launch.py"), spec_path]
        cr.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                   start_new_session=True, close_fds=True)
        logf.close()
        cr.pid = cr.proc.pid
        cr.state = "running"
        cr.started_at = time.time()
        cr.ever_started = True
        cr.exit_code = None
        cr.kill_requested = None
        cr.restart_reason = None
        cr.ready = False
        cr.started = not c.get("startupProbe")
        cr.waiting_reason, cr.waiting_message = "", ""
        log(f"pod {self.ns}/{self.name}: container {cr.name} started, pid {cr.pid}: {' '.join(argv)}")
        if not cr.init:
            cr.probe_stop = threading.Event()
            threading.Thread(target=self.probe_loop, args=(cr, cr.probe_stop, cr.proc), daemon=True,
                             name=f"probe-{self.name}-{cr.name}").start()
        self.agent.state_changed()
        return True

    def reap(self, cr):
        """Record the exit of cr's process; True when it exited just now."""
        if cr.proc is None or cr.state != "running":
            return False
        code = cr.proc.poll()
        if code is None:
            return False
        if cr.probe_stop:
            cr.probe_stop.set()
        cr.state = "terminated"
        cr.finished_at = time.time()
        cr.exit_code = 128 - code if code < 0 else code  # killed by signal n: 128 + n
        cr.term_reason = "Completed" if cr.exit_code == 0 else "Error"
        cr.ready = False
        cr.started = False
        # Whatever else the container started goes with it.
        try:
            os.killpg(cr.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        log(f"pod {self.ns}/{self.name}: container {cr.name} exited with {cr.exit_code}"
            + (f" ({cr.kill_requested})" if cr.kill_requested else ""))
        self.agent.state_changed()
        return True

    def should_restart(self, pod, cr):
        policy = pod["spec"].get("restartPolicy", "Always")
        if cr.init:
            return cr.exit_code != 0 and policy != "Never"
        return policy == "Always" or (policy == "OnFailure" and cr.exit_code != 0)

    def schedule_restart(self, cr):
        cr.last_terminated = {
            "exitCode": cr.exit_code, "reason": cr.term_reason,
            "startedAt": now_rfc3339(cr.started_at), "finishedAt": now_rfc3339(cr.finished_at),
            "containerID": f"duckgate-e2e://{self.uid}/{cr.name}/{cr.restart_count}"}
        cr.restart_count += 1
        ran = cr.finished_at - (cr.started_at or cr.finished_at)
        if ran > 60:
            cr.backoff = 1.0
        cr.next_start = time.time() + cr.backoff
        cr.backoff = min(cr.backoff * 2, 30.0)
        cr.state, cr.waiting_reason = "waiting", "CrashLoopBackOff"
        cr.waiting_message = f"back-off restarting container {cr.name}"

    def sync(self, pod):
        if not self.sandbox_ready:
            try:
                self.setup_sandbox(pod)
            except MissingObject as e:
                for cr in self.inits + self.containers:
                    cr.waiting_reason, cr.waiting_message = "ContainerCreating", f"MountVolume.SetUp failed: {e}"
                self.push_status(pod)
                return
        else:
            try:
                self.sync_volumes(pod)
            except MissingObject as e:
                log(f"pod {self.ns}/{self.name}: volume refresh: {e}")
            self.write_hosts()

        if self.terminal_phase:
            self.push_status(pod)
            return
        deadline = pod["spec"].get("activeDeadlineSeconds")
        if deadline is not None and self.start_time and time.time() - self.start_time > deadline:
            log(f"pod {self.ns}/{self.name}: active deadline of {deadline} s exceeded")
            for cr in self.inits + self.containers:
                cr.kill_requested = "DeadlineExceeded"
            self.signal_and_wait(self.inits + self.containers, pod["spec"].get("terminationGracePeriodSeconds", 30))
            for cr in self.inits + self.containers:
                self.reap(cr)
            self.terminal_phase = "Failed"
            self.push_status(pod)
            return

        # init containers, one after the other
        inits_done = True
        for cr in self.inits:
            self.reap(cr)
            if cr.state == "terminated" and cr.exit_code == 0:
                continue
            inits_done = False
            if cr.state == "running":
                break
            if cr.state == "terminated":
                if self.should_restart(pod, cr):
                    self.schedule_restart(cr)
                else:
                    self.terminal_phase = "Failed"
                break
            if time.time() >= cr.next_start:
                self.start_container(pod, cr)
            break
        if inits_done:
            for cr in self.containers:
                self.reap(cr)
                if cr.state == "running" and cr.kill_requested is None and cr.restart_requested():
                    self.stop_container(pod, cr, "liveness or startup probe failed")
                if cr.state == "terminated":
                    if self.should_restart(pod, cr):
                        self.schedule_restart(cr)
                if cr.state == "waiting" and time.time() >= cr.next_start:
                    self.start_container(pod, cr)
            policy = pod["spec"].get("restartPolicy", "Always")
            if policy != "Always" and self.containers and all(
                    cr.state == "terminated" and not self.should_restart(pod, cr) for cr in self.containers):
                self.terminal_phase = "Succeeded" if all(cr.exit_code == 0 for cr in self.containers) else "Failed"
                log(f"pod {self.ns}/{self.name}: {self.terminal_phase}")
        self.push_status(pod)

    def stop_container(self, pod, cr, reason):
        """Graceful stop of one container (liveness failure): SIGTERM, SIGKILL after the grace."""
        cr.kill_requested = reason
        grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
        log(f"pod {self.ns}/{self.name}: stopping container {cr.name}: {reason}")
        self.signal_and_wait([cr], grace)
        self.reap(cr)

    def signal_and_wait(self, crs, grace):
        live = [cr for cr in crs if cr.running()]
        for cr in live:
            try:
                os.kill(cr.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.time() + max(grace, 0)
        while time.time() < deadline and any(cr.running() for cr in live):
            time.sleep(0.1)
        for cr in live:
            if cr.running():
                log(f"pod {self.ns}/{self.name}: container {cr.name} outlived its grace period: SIGKILL")
                try:
                    os.killpg(cr.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                cr.proc.wait()

    def kill_all(self, sig):
        for cr in self.inits + self.containers:
            if cr.probe_stop:
                cr.probe_stop.set()
            if cr.proc is not None and cr.proc.poll() is None:
                try:
                    os.killpg(cr.pid, sig)
                except ProcessLookupError:
                    pass
                try:
                    cr.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(cr.pid, signal.SIGKILL)
                    cr.proc.wait()
            self.reap(cr)

    def terminate(self, pod):
        md = pod["metadata"]
        grace = md.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
        log(f"pod {self.ns}/{self.name}: deleted; stopping its containers (grace {grace} s)")
        for cr in self.inits + self.containers:
            cr.kill_requested = cr.kill_requested or "pod deleted"
        self.signal_and_wait(self.inits + self.containers, grace)
        for cr in self.inits + self.containers:
            if cr.probe_stop:
                cr.probe_stop.set()
            self.reap(cr)
        if self.containers and all(cr.state == "terminated" or not cr.ever_started for cr in self.containers):
            started = [cr for cr in self.containers if cr.ever_started]
            self.terminal_phase = "Succeeded" if started and all(cr.exit_code == 0 for cr in started) else "Failed"
        try:
            self.push_status(self.snapshot(), final=True)
        except ApiError as e:
            if e.status != 404:
                log(f"pod {self.ns}/{self.name}: final status: {e}")
        try:
            self.agent.kube.request(
                "DELETE", f"/api/v1/namespaces/{self.ns}/pods/{self.name}",
                {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
                 "preconditions": {"uid": self.uid}})
            log(f"pod {self.ns}/{self.name}: deleted from the API")
        except ApiError as e:
            if e.status not in (404, 409):
                log(f"pod {self.ns}/{self.name}: final delete: {e}")

    def cleanup(self):
        if self.ip:
            self.agent.release_ip(self.uid)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- probes

    def probe_once(self, pod, cr, probe):
        timeout = probe.get("timeoutSeconds", 1)
        if "httpGet" in probe:
            g = probe["httpGet"]
            port = self.resolve_port(cr, g.get("port"))
            host = g.get("host") or self.ip
            scheme = (g.get("scheme") or "HTTP").upper()
            try:
                if scheme == "HTTPS":
                    conn = http.client.HTTPSConnection(host, port, timeout=timeout,
                                                       context=ssl._create_unverified_context())
                else:
                    conn = http.client.HTTPConnection(host, port, timeout=timeout)
                headers = {h["name"]: h["value"] for h in g.get("httpHeaders") or []}
                headers.setdefault("User-Agent", "kube-probe/1.37")
                conn.request("GET", g.get("path") or "/", headers=headers)
                r = conn.getresponse()
                r.read()
                conn.close()
                return 200 <= r.status < 400, f"HTTP probe failed with statuscode: {r.status}"
            except (OSError, http.client.HTTPException) as e:
                return False, f"Get \"{scheme.lower()}://{host}:{port}{g.get('path') or '/'}\": {e}"
        if "tcpSocket" in probe:
            t = probe["tcpSocket"]
            port = self.resolve_port(cr, t.get("port"))
            try:
                socket.create_connection((t.get("host") or self.ip, port), timeout=timeout).close()
                return True, ""
            except OSError as e:
                return False, f"dial tcp {self.ip}:{port}: {e}"
        if "exec" in probe:
            uid, gid, _ = self.user_of(pod, cr.spec, self.agent.image_for(cr.spec.get("image", "")) or {})
            cmd = ["nsenter", "-t", str(cr.pid), "-m", "-u", "-S", str(uid), "-G", str(gid), "--"] + probe["exec"]["command"]
            try:
                r = subprocess.run(cmd, capture_output=True, timeout=timeout, cwd="/")
                return r.returncode == 0, (r.stdout + r.stderr).decode(errors="replace")[-200:]
            except subprocess.TimeoutExpired:
                return False, "command timed out"
        return False, f"unsupported probe {list(probe)}"

    @staticmethod
    def resolve_port(cr, port):
        if isinstance(port, int):
            return port
        if isinstance(port, str) and port.isdigit():
            return int(port)
        for p in cr.spec.get("ports") or []:
            if p.get("name") == port:
                return p["containerPort"]
        raise ValueError(f"no port named {port}")

    def probe_loop(self, cr, stop, proc):
        """Startup, then liveness and readiness, as the kubelet runs them for one container run."""
        spec = cr.spec
        startup, live, ready = spec.get("startupProbe"), spec.get("livenessProbe"), spec.get("readinessProbe")
        t0 = time.time()
        counters = {}

        def due_first(p):
            return t0 + p.get("initialDelaySeconds", 0)

        next_run = {}
        if startup:
            next_run["startup"] = due_first(startup)
        else:
            cr.started = True
        if not ready:
            cr.ready = True
        while not stop.is_set() and proc.poll() is None:
            pod = self.snapshot()
            if cr.started:
                if live and "liveness" not in next_run:
                    next_run["liveness"] = max(time.time(), due_first(live))
                if ready and "readiness" not in next_run:
                    next_run["readiness"] = max(time.time(), due_first(ready))
            for kind, when in sorted(next_run.items(), key=lambda kv: kv[1]):
                if time.time() < when or stop.is_set():
                    continue
                probe = {"startup": startup, "liveness": live, "readiness": ready}[kind]
                try:
                    ok, msg = self.probe_once(pod, cr, probe)
                except Exception as e:  # a bad port name and the like: a failure
                    ok, msg = False, str(e)
                succ, fail = counters.get(kind, (0, 0))
                succ, fail = (succ + 1, 0) if ok else (0, fail + 1)
                counters[kind] = (succ, fail)
                next_run[kind] = time.time() + probe.get("periodSeconds", 10)
                if kind == "startup":
                    if ok:
                        cr.started = True
                        del next_run["startup"]
                        self.agent.state_changed()
                    elif fail >= probe.get("failureThreshold", 3):
                        cr.restart_reason = f"startup probe failed: {msg}"
                elif kind == "liveness":
                    if not ok and fail >= probe.get("failureThreshold", 3):
                        cr.restart_reason = f"liveness probe failed: {msg}"
                else:
                    if ok and not cr.ready and succ >= probe.get("successThreshold", 1):
                        cr.ready = True
                        log(f"pod {self.ns}/{self.name}: container {cr.name} ready")
                    elif not ok and cr.ready and fail >= probe.get("failureThreshold", 3):
                        cr.ready = False
                        log(f"pod {self.ns}/{self.name}: container {cr.name} not ready: {msg}")
            stop.wait(0.1)

    # -- status

    def condition(self, ctype, ok, reason=None, message=None):
        status = "True" if ok else "False"
        prev = self.conditions.get(ctype)
        if prev and prev["status"] == status:
            ts = prev["lastTransitionTime"]
        else:
            ts = now_rfc3339()
        c = {"type": ctype, "status": status, "lastProbeTime": None, "lastTransitionTime": ts}
        if reason and not ok:
            c["reason"] = reason
        if message and not ok:
            c["message"] = message
        self.conditions[ctype] = c
        return c

    def push_status(self, pod, final=False):
        spec = pod["spec"]
        images = {c["name"]: c.get("image", "") for c in spec.get("containers", []) + spec.get("initContainers", [])}
        cstat = [cr.status(images[cr.name]) for cr in self.containers]
        istat = [cr.status(images[cr.name]) for cr in self.inits]
        inits_done = all(cr.state == "terminated" and cr.exit_code == 0 for cr in self.inits)
        not_ready = [cr.name for cr in self.containers if not cr.ready]
        if self.terminal_phase:
            phase = self.terminal_phase
        elif self.containers and all(cr.ever_started for cr in self.containers):
            phase = "Running"
        else:
            phase = "Pending"
        terminal = phase in ("Succeeded", "Failed")
        conds = [
            self.condition("PodReadyToStartContainers", self.sandbox_ready and not final),
            self.condition("Initialized", inits_done, "ContainersNotInitialized",
                           f"containers with incomplete status: {[cr.name for cr in self.inits if cr.exit_code != 0]}"),
            self.condition("ContainersReady", not not_ready and not terminal,
                           "PodCompleted" if terminal else "ContainersNotReady",
                           None if terminal else f"containers with unready status: {not_ready}"),
            self.condition("Ready", not not_ready and not terminal,
                           "PodCompleted" if terminal else "ContainersNotReady",
                           None if terminal else f"containers with unready status: {not_ready}"),
        ]
        mine = {c["type"] for c in conds}
        others = [c for c in (pod.get("status") or {}).get("conditions") or [] if c["type"] not in mine]
        status = {
            "phase": phase,
            "conditions": others + conds,
            "hostIP": "127.0.0.1",
            "hostIPs": [{"ip": "127.0.0.1"}],
            "startTime": now_rfc3339(self.start_time or time.time()),
            "containerStatuses": cstat,
        }
        if self.ip:
            status["podIP"] = self.ip
            status["podIPs"] = [{"ip": self.ip}]
        if istat:
            status["initContainerStatuses"] = istat
        compare = json.dumps(status, sort_keys=True)
        if compare == self.last_status:
            return
        self.agent.kube.merge_patch(f"/api/v1/namespaces/{self.ns}/pods/{self.name}/status", {"status": status})
        self.last_status = compare


# ----------------------------------------------------------------------------------------------
# Service proxy


class ServiceProxy:
    """A userspace proxy for one Service port: loopback address:port -> ready endpoints."""

    def __init__(self, agent, key, ip, port, target_name, target_port):
        self.agent, self.key, self.ip, self.port = agent, key, ip, port
        self.target_name, self.target_port = target_name, target_port
        self.targets = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        self.sock.listen(128)
        self.closed = False
        threading.Thread(target=self.accept_loop, daemon=True, name=f"svc-{key}-{port}").start()

    def close(self):
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def accept_loop(self):
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(client,), daemon=True).start()

    def handle(self, client):
        targets = list(self.targets)
        random.shuffle(targets)
        upstream = None
        for addr in targets:
            try:
                upstream = socket.create_connection(addr, timeout=3)
                upstream.settimeout(None)
                break
            except OSError:
                continue
        if upstream is None:
            client.close()
            return

        t = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        t.start()
        pump(client, upstream)
        t.join()
        client.close()
        upstream.close()


# ----------------------------------------------------------------------------------------------
# The agent


class Agent:
    def __init__(self, args):
        self.args = args
        self.kube = Kube(args.server, args.ca, args.cert, args.key)
        self.node = args.node
        self.state_dir = os.path.abspath(args.state_dir)
        self.cluster_domain = args.cluster_domain
        u = urllib.parse.urlparse(args.server)
        self.api_host, self.api_port = u.hostname, u.port
        self.images = json.load(open(args.images)) if args.images else []
        self.lock = threading.Lock()
        self.workers = {}
        self.finished = {}  # uid -> when its worker ended (its deletion may still be in flight)
        self.ips = {}
        self.next_ip = 0
        self.services = {}  # (ns, name) -> proxy ip
        self.proxies = {}  # (ns, name, port) -> ServiceProxy
        self.mount_points = []
        self.mount_lock = threading.Lock()
        self.host_mnt_ns = os.readlink("/proc/self/ns/mnt")
        self.dirty = threading.Event()
        self.stopping = False
        os.makedirs(self.state_dir, exist_ok=True)
        os.chmod(self.state_dir, 0o755)
        self.shim = self.build_shim()
        self.route_added = False

    def ensure_route(self):
        """Make the pod network local to this host (like 127.0.0.0/8 is)."""
        net = f"{self.args.pod_net}.0/24"
        if self.args.pod_net.startswith("127."):
            return
        have = subprocess.run(["ip", "route", "show", "table", "local", net], capture_output=True, text=True, check=True)
        if "local" in have.stdout:
            log(f"pod network {net} is already local to this host (an earlier agent's route: taken over)")
        else:
            subprocess.run(["ip", "route", "add", "local", net, "dev", "lo"], check=True)
            log(f"pod network {net} is local to this host (route added)")
        # The agent owns this range on this host: the route goes when the agent does.
        self.route_added = True

    def remove_route(self):
        if self.route_added:
            subprocess.run(["ip", "route", "del", "local", f"{self.args.pod_net}.0/24", "dev", "lo"], check=False)
            self.route_added = False

    def build_shim(self):
        out = os.path.join(self.state_dir, "bindshim.so")
        src = os.path.join(HERE, "bindshim.c")
        subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", out + ".tmp", src, "-ldl"], check=True)
        os.chmod(out + ".tmp", 0o755)
        os.rename(out + ".tmp", out)
        return out

    # -- images

    def image_for(self, ref):
        for img in self.images:
            if fnmatch.fnmatchcase(ref, img["match"]):
                return img
        return None

    # -- addresses

    def allocate_ip(self, uid):
        with self.lock:
            used = set(self.ips.values())
            for _ in range(240):
                self.next_ip = self.next_ip % 240 + 1
                ip = f"{self.args.pod_net}.{self.next_ip + 9}"
                if ip not in used:
                    self.ips[uid] = ip
                    return ip
        raise RuntimeError("out of pod addresses")

    def release_ip(self, uid):
        with self.lock:
            self.ips.pop(uid, None)

    def created_mount_point(self, path):
        with self.lock:
            self.mount_points.append(path)

    def service_table(self):
        with self.lock:
            return dict(self.services)

    def state_changed(self):
        self.dirty.set()

    def worker_done(self, w):
        with self.lock:
            if self.workers.get(w.uid) is w:
                del self.workers[w.uid]
            self.finished[w.uid] = time.time()
        self.state_changed()

    # -- node

    def register_node(self):
        labels = {"kubernetes.io/hostname": self.node, "kubernetes.io/os": "linux",
                  "kubernetes.io/arch": "amd64", "topology.kubernetes.io/zone": "e2e-zone-a",
                  "node.kubernetes.io/instance-type": "duckgate-e2e-agent"}
        node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": self.node, "labels": labels}, "spec": {}}
        try:
            self.kube.request("POST", "/api/v1/nodes", node)
        except ApiError as e:
            if e.status != 409:
                raise
        self.heartbeat()
        log(f"node {self.node} registered")

    def heartbeat(self):
        t = now_rfc3339()

        def cond(ctype, status, reason, msg):
            return {"type": ctype, "status": status, "reason": reason, "message": msg,
                    "lastHeartbeatTime": t, "lastTransitionTime": self.node_since}

        cap = {"cpu": "8", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"}
        status = {
            "capacity": cap, "allocatable": cap,
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "duckgate e2e agent is posting ready status"),
            ],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": self.node}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
            "nodeInfo": {"machineID": "duckgate-e2e", "systemUUID": "duckgate-e2e", "bootID": "duckgate-e2e",
                         "kernelVersion": os.uname().release, "osImage": "duckgate e2e agent",
                         "containerRuntimeVersion": "duckgate-e2e://1", "kubeletVersion": "v1.37.2",
                         "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64"},
        }
        self.kube.merge_patch(f"/api/v1/nodes/{self.node}/status", {"status": status})

    # -- loops

    def sync_pods(self):
        pods = self.kube.get("/api/v1/pods", {"fieldSelector": f"spec.nodeName={self.node}"})["items"]
        seen = set()
        for pod in pods:
            uid = pod["metadata"]["uid"]
            seen.add(uid)
            with self.lock:
                w = self.workers.get(uid)
            if w is not None:
                w.update(pod)
                continue
            if uid in self.finished:
                continue
            phase = (pod.get("status") or {}).get("phase")
            if phase in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp"):
                continue  # finished before this agent (re)started
            if pod["metadata"].get("deletionTimestamp") and phase in ("Succeeded", "Failed"):
                self.kube.request("DELETE", f"/api/v1/namespaces/{pod['metadata']['namespace']}/pods/{pod['metadata']['name']}",
                                  {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
                                   "preconditions": {"uid": uid}})
                continue
            w = PodWorker(self, pod)
            with self.lock:
                self.workers[uid] = w
            log(f"pod {w.ns}/{w.name} ({uid[:8]}) bound here: starting")
            w.start()
            self.state_changed()
        with self.lock:
            gone = [w for uid, w in self.workers.items() if uid not in seen]
            for uid in [u for u, t in self.finished.items() if u not in seen and time.time() - t > 60]:
                del self.finished[uid]
        for w in gone:
            w.vanish()

    def sync_services(self):
        svcs = self.kube.get("/api/v1/services")["items"]
        slices = self.kube.get("/apis/discovery.k8s.io/v1/endpointslices")["items"]
        by_svc = {}
        for s in slices:
            name = (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name")
            if name and s.get("addressType") in ("IPv4", None):
                by_svc.setdefault((s["metadata"]["namespace"], name), []).append(s)
        wanted = set()
        changed = False
        for svc in svcs:
            ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
            cip = svc["spec"].get("clusterIP")
            if not cip or cip == "None":
                continue
            key = (ns, name)
            with self.lock:
                ip = self.services.get(key)
                if ip is None:
                    used = set(self.services.values())
                    n = 1
                    while f"{self.args.service_net}.{n}" in used:
                        n += 1
                    if n > 254:
                        continue
                    ip = f"{self.args.service_net}.{n}"
                    self.services[key] = ip
                    changed = True
            for p in svc["spec"].get("ports") or []:
                if p.get("protocol", "TCP") != "TCP":
                    continue
                pkey = (ns, name, p["port"])
                wanted.add(pkey)
                ready, serving = [], []
                for sl in by_svc.get(key, []):
                    port = None
                    for sp in sl.get("ports") or []:
                        if (sp.get("name") or "") == (p.get("name") or ""):
                            port = sp.get("port")
                    if port is None:
                        continue
                    for ep in sl.get("endpoints") or []:
                        cond = ep.get("conditions") or {}
                        for a in ep.get("addresses") or []:
                            if cond.get("ready", True):
                                ready.append((a, port))
                            elif cond.get("serving") and cond.get("terminating"):
                                serving.append((a, port))
                targets = sorted(ready) or sorted(serving)
                proxy = self.proxies.get(pkey)
                if proxy is None:
                    try:
                        proxy = ServiceProxy(self, key, ip, p["port"], p.get("name"), p.get("targetPort"))
                    except OSError as e:
                        log(f"service {ns}/{name}: cannot listen on {ip}:{p['port']}: {e}")
                        continue
                    self.proxies[pkey] = proxy
                    log(f"service {ns}/{name}: {ip}:{p['port']}")
                    changed = True
                if proxy.targets != targets:
                    proxy.targets = targets
                    changed = True
        for pkey in list(self.proxies):
            if pkey not in wanted:
                self.proxies.pop(pkey).close()
                changed = True
        live = {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in svcs
                if s["spec"].get("clusterIP") not in (None, "", "None")}
        with self.lock:
            for key in list(self.services):
                if key not in live:
                    del self.services[key]
                    changed = True
        if changed:
            self.state_changed()

    def write_state(self):
        with self.lock:
            workers = list(self.workers.values())
            services = dict(self.services)
        pods = {}
        for w in workers:
            pods[w.uid] = {
                "namespace": w.ns, "name": w.name, "ip": w.ip,
                "containers": {cr.name: {"pid": cr.pid, "running": cr.running(), "restarts": cr.restart_count,
                                         "log": cr.log_path}
                               for cr in w.inits + w.containers},
            }
        svc = {f"{ns}/{name}": {"ip": ip, "ports": sorted(p for (n2, nm2, p) in self.proxies if (n2, nm2) == (ns, name)),
                                "targets": {str(p): [f"{a}:{tp}" for a, tp in self.proxies[(ns, name, p)].targets]
                                            for (n2, nm2, p) in self.proxies if (n2, nm2) == (ns, name)}}
               for (ns, name), ip in services.items()}
        for fname, data in (("pods.json", pods), ("services.json", svc)):
            tmp = os.path.join(self.state_dir, fname + ".tmp")
            with open(tmp, "w") as f:
                json.dump(data, f, indent=1, sort_keys=True)
            os.rename(tmp, os.path.join(self.state_dir, fname))

    def run(self):
        self.node_since = now_rfc3339()
        self.ensure_route()
        self.register_node()
        last_beat = time.time()
        last_svc = 0.0
        errors = {}
        self.write_state()
        with open(os.path.join(self.state_dir, "ready"), "w") as f:
            f.write(str(os.getpid()))
        while not self.stopping:
            for what, fn in (("pods", self.sync_pods), ("services", self.sync_services)):
                if what == "services" and time.time() - last_svc < 0.3:
                    continue
                try:
                    fn()
                    errors.pop(what, None)
                except (ApiError, OSError, http.client.HTTPException) as e:
                    if errors.get(what) != str(e):
                        log(f"syncing {what}: {e}")
                    errors[what] = str(e)
                if what == "services":
                    last_svc = time.time()
            if time.time() - last_beat > 10:
                try:
                    self.heartbeat()
                except (ApiError, OSError, http.client.HTTPException) as e:
                    log(f"heartbeat: {e}")
                last_beat = time.time()
            if self.dirty.is_set():
                self.dirty.clear()
                self.write_state()
            time.sleep(0.25)

    def shutdown(self):
        """Stop every container (SIGTERM, SIGKILL after 5 s), remove created mount points."""
        self.stopping = True
        with self.lock:
            workers = list(self.workers.values())
        for w in workers:
            w.vanished = True
            w.signal_and_wait(w.inits + w.containers, 5)
        for w in workers:
            w.join(timeout=15)
        for p in self.proxies.values():
            p.close()
        for path in reversed(self.mount_points):
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    os.rmdir(path)  # only when empty
                elif os.path.isfile(path) and os.path.getsize(path) == 0:
                    os.unlink(path)
            except OSError:
                pass
        self.write_state()
        self.remove_route()
        if self.args.delete_node:
            try:
                self.kube.request("DELETE", f"/api/v1/nodes/{self.node}")
            except (ApiError, OSError, http.client.HTTPException):
                pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--node", default="duckgate-e2e-node")
    ap.add_argument("--state-dir", required=True, help="outside /root: processes of other users read it")
    ap.add_argument("--images", help="image map (JSON)")
    ap.add_argument("--pod-net", default="198.18.0", help="pods get <pod-net>.10 .. .249 (a local route for <pod-net>.0/24 is added)")
    ap.add_argument("--service-net", default="127.0.1", help="Service proxies get <service-net>.1 ..")
    ap.add_argument("--cluster-domain", default="cluster.local")
    ap.add_argument("--delete-node", action="store_true", help="delete the Node on exit")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("the agent needs root (mount namespaces, other users)")
    agent = Agent(args)

    def on_signal(signum, _frame):
        log(f"signal {signum}: shutting down")
        agent.stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        agent.run()
    finally:
        agent.shutdown()
        log("stopped")


if __name__ == "__main__":
    main()
