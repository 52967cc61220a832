#!/usr/bin/env python3
"""tcp-relay LISTEN=TARGET ...: accept TCP connections on LISTEN (HOST:PORT) and relay each to
TARGET (HOST:PORT). The e2e runs it as pods (image duckgate-e2e/tcp-relay) that stand for the
test PostgreSQL and S3 servers behind Services, the way a cluster would run them in pods."""

import socket
import sys
import threading


def hostport(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


def pump(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def handle(client, target):
    try:
        upstream = socket.create_connection(target, timeout=5)
        upstream.settimeout(None)
    except OSError as e:
        print(f"tcp-relay: {target[0]}:{target[1]}: {e}", file=sys.stderr, flush=True)
        client.close()
        return
    t = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    t.start()
    pump(client, upstream)
    t.join()
    client.close()
    upstream.close()


def serve(listen, target):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(listen)
    s.listen(128)
    print(f"tcp-relay: {s.getsockname()[0]}:{s.getsockname()[1]} -> {target[0]}:{target[1]}", flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c, target), daemon=True).start()


def main():
    pairs = [a.split("=", 1) for a in sys.argv[1:]]
    if not pairs or any(len(p) != 2 for p in pairs):
        sys.exit(__doc__)
    threads = [threading.Thread(target=serve, args=(hostport(a), hostport(b)), daemon=True) for a, b in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
