"""Start one container process of the e2e node agent, inside a fresh mount (and UTS) namespace.

The agent runs `unshare --mount --uts --propagation private -- python3 launch.py SPEC.json`. This
script then, in that private namespace only:
  1. bind-mounts each volume (and the image's files) at its mount path, read-only where asked
     (every source is opened before the first mount; targets in the given order, shallow first),
  2. remounts the root file system read-only when the container asks for readOnlyRootFilesystem
     (a per-mount flag of this namespace's copy of "/": the host's root stays writable),
  3. sets the host name to the pod's name,
  4. becomes the container's user (uid, gid, supplementary groups incl. fsGroup), sets
     no_new_privs, changes to the working directory,
  5. execs the container's command with exactly the environment the agent computed.
The pid the agent started is then the container's main process: SIGTERM reaches it directly.
Any failure exits with status 127 after saying why on stderr (the container's log).
"""

import ctypes
import json
import os
import socket
import sys

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
PR_SET_NO_NEW_PRIVS = 38

libc = ctypes.CDLL(None, use_errno=True)


def die(msg):
    sys.stderr.write(f"duckgate-e2e-agent launch: {msg}\n")
    sys.stderr.flush()
    os._exit(127)


def mount(src, dst, flags):
    # Every call here carries MS_BIND: a remount without it would change the flags of the
    # whole file system (the host's too), never only of this namespace's mount.
    if not flags & MS_BIND:
        die(f"refusing a mount without MS_BIND on {dst}")
    if libc.mount(src.encode() if src else None, dst.encode(), None, flags, None) != 0:
        err = ctypes.get_errno()
        die(f"mount {src} -> {dst} (flags {flags:#x}): {os.strerror(err)}")


def main():
    spec = json.load(open(sys.argv[1]))
    # We must be in a namespace of our own before touching any mount.
    if os.readlink("/proc/self/ns/mnt") == spec["hostMountNamespace"]:
        die("not in a private mount namespace (run me through unshare --mount)")

    # Open every source first: a mount over /tmp (an emptyDir) must not hide sources that live
    # under /tmp. The bind then comes from /proc/self/fd/N, which names the opened file itself.
    sources = []
    for m in spec["mounts"]:
        try:
            sources.append(os.open(m["source"], os.O_PATH | os.O_CLOEXEC))
        except OSError as e:
            die(f"volume source {m['source']}: {e}")
    for m, fd in zip(spec["mounts"], sources):
        mount(f"/proc/self/fd/{fd}", m["target"], MS_BIND | MS_REC)
        if m["readOnly"]:
            mount(None, m["target"], MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    if spec["readOnlyRoot"]:
        mount(None, "/", MS_REMOUNT | MS_BIND | MS_RDONLY)

    if spec.get("hostname"):
        try:
            socket.sethostname(spec["hostname"][:63])
        except OSError as e:
            die(f"sethostname: {e}")

    try:
        os.chdir(spec["workingDir"] or "/")
    except OSError as e:
        die(f"working directory {spec['workingDir']}: {e}")

    uid, gid, groups = spec["uid"], spec["gid"], spec["groups"]
    try:
        os.setgroups(groups)
        os.setgid(gid)
        os.setuid(uid)
    except OSError as e:
        die(f"becoming {uid}:{gid} {groups}: {e}")
    if spec["noNewPrivs"] and libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        die("prctl(PR_SET_NO_NEW_PRIVS)")

    argv, env = spec["argv"], spec["env"]
    if not argv:
        die("no command")
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as e:
        die(f"exec {argv[0]} (PATH={env.get('PATH', '')}): {e}")


if __name__ == "__main__":
    main()
