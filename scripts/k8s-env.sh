# shellcheck shell=bash disable=SC2034
# Shared settings of the test Kubernetes control plane; sourced by start-/stop-k8s.sh and
# k8s-user.sh (after lib.sh). Every port is on 127.0.0.1 and can be moved by its variable.
K8S_ETCD_PORT="${DUCKGATE_K8S_ETCD_PORT:-52379}"          # etcd clients (plain http)
K8S_ETCD_PEER_PORT="${DUCKGATE_K8S_ETCD_PEER_PORT:-52380}" # etcd peers (no peers, but it binds)
K8S_API_PORT="${DUCKGATE_K8S_API_PORT:-56443}"            # kube-apiserver (https)
K8S_KCM_PORT="${DUCKGATE_K8S_KCM_PORT:-56257}"            # kube-controller-manager /healthz (https)
K8S_SCHED_PORT="${DUCKGATE_K8S_SCHED_PORT:-56259}"        # kube-scheduler /healthz (https)
K8S_RUN="${DUCKGATE_K8S_RUN:-$DUCKGATE_CACHE/k8s-run}"    # pki/, etcd data, logs, pids, kubeconfigs
K8S_PKI="$K8S_RUN/pki"
K8S_SERVER="https://127.0.0.1:$K8S_API_PORT"
K8S_COMPONENTS="etcd kube-apiserver kube-controller-manager kube-scheduler"

# k8s_pid NAME: the pid of the running component NAME from its pid file, if that process still is
# one of ours (pids are reused: the program name must match, and a zombie has no cmdline).
k8s_pid() {
  local pid argv0
  pid=$(cat "$K8S_RUN/$1.pid" 2>/dev/null) || return 1
  argv0=$({ tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null | head -n 1)
  [ "${argv0##*/}" = "$1" ] || return 1
  echo "$pid"
}

# k8s_stop NAME: TERM, then KILL after 10 s; removes the pid file.
k8s_stop() {
  local pid
  if pid=$(k8s_pid "$1"); then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do k8s_pid "$1" >/dev/null || break; sleep 0.1; done
    if k8s_pid "$1" >/dev/null; then kill -9 "$pid" 2>/dev/null || true; sleep 0.2; fi
  fi
  rm -f "$K8S_RUN/$1.pid"
}

# k8s_ca NAME: a self-signed CA $K8S_PKI/NAME.{key,crt}, made once.
k8s_ca() {
  local key="$K8S_PKI/$1.key" crt="$K8S_PKI/$1.crt"
  [ ! -s "$crt" ] || [ ! -s "$key" ] || return 0
  openssl genrsa -out "$key" 2048 2>/dev/null
  openssl req -x509 -new -key "$key" -subj "/CN=duckgate-test-$1" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" -out "$crt"
}

# k8s_leaf NAME CN ORGS KIND [SAN...]: a key and certificate $K8S_PKI/NAME.{key,crt} signed by the
# CA $K8S_PKI/${K8S_LEAF_CA:-ca}, for KIND client or server; ORGS (comma-separated, may be empty)
# become the user's groups. An existing pair is kept while it verifies against the CA for a day
# more and has those names.
k8s_leaf() {
  local name="$1" cn="$2" org="$3" kind="$4"; shift 4
  local key="$K8S_PKI/$name.key" crt="$K8S_PKI/$name.crt" ca="$K8S_PKI/${K8S_LEAF_CA:-ca}"
  local subj="" o
  for o in ${org//,/ }; do subj+="/O=$o"; done
  subj+="/CN=$cn"
  if [ -s "$crt" ] && [ -s "$key" ] && [ -s "$crt.subj" ] && [ "$(cat "$crt.subj")" = "$subj" ] &&
     openssl verify -CAfile "$ca.crt" "$crt" >/dev/null 2>&1 &&
     openssl x509 -in "$crt" -noout -checkend 86400 >/dev/null 2>&1; then
    return 0
  fi
  local ext="$K8S_PKI/$name.ext"
  openssl genrsa -out "$key" 2048 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=${kind}Auth"
    if [ $# -gt 0 ]; then
      local sans=() s
      for s in "$@"; do
        if [[ "$s" =~ ^[0-9.]+$ ]]; then sans+=("IP:$s"); else sans+=("DNS:$s"); fi
      done
      echo "subjectAltName=$(IFS=,; echo "${sans[*]}")"
    fi
  } >"$ext"
  openssl req -new -key "$key" -subj "$subj" 2>/dev/null |
    openssl x509 -req -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial \
      -days 3650 -sha256 -extfile "$ext" -out "$crt" 2>/dev/null
  rm -f "$ext"
  echo "$subj" >"$crt.subj"
}

# k8s_kubeconfig FILE CERT: a self-contained kubeconfig (everything inline) for the client
# certificate $K8S_PKI/CERT.{crt,key}, talking to the apiserver on loopback.
k8s_kubeconfig() {
  local file="$1" cert="$2" name="${2##*/}" tmp
  tmp=$(mktemp "$file.XXXXXX")
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: duckgate-test
  cluster:
    server: $K8S_SERVER
    certificate-authority-data: $(base64 -w0 "$K8S_PKI/ca.crt")
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 "$K8S_PKI/$cert.crt")
    client-key-data: $(base64 -w0 "$K8S_PKI/$cert.key")
contexts:
- name: $name@duckgate-test
  context:
    cluster: duckgate-test
    user: $name
    namespace: default
current-context: $name@duckgate-test
EOF
  chmod 600 "$tmp"
  mv "$tmp" "$file"
}
