"""Load generator for examples/serving/server.py: concurrent clients on keep-alive connections,
each sending requests back to back; measures, client-side, each request's latency (request sent →
last byte), time to first token (→ first token line) and inter-token latency (between token
lines), and prints their percentiles as JSON (nearest rank, as InferScope's report).

    python examples/serving/loadgen.py --port 8000 --requests 64 --concurrency 8 [--shutdown]
"""
import argparse
import http.client
import json
import math
import random
import socket
import sys
import threading
import time


def percentiles(values):
    s = sorted(values)
    n = len(s)
    if n == 0:
        return None

    def rank(p):
        return s[min(n, max(1, math.ceil(p / 100.0 * n))) - 1]

    return {"count": n, "mean_ms": sum(s) / n, "p50_ms": rank(50), "p95_ms": rank(95), "p99_ms": rank(99), "max_ms": s[-1]}


def client(host, port, ids, args, out, lock, seed):
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection(host, port, timeout=120)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # Untimed: the server accepts the connection and starts its thread for it here, not in the
    # first timed request (a server cannot see a request before it reads it).
    conn.request("GET", "/health")
    conn.getresponse().read()
    for rid in ids:
        body = json.dumps({"id": rid, "prompt_tokens": rnd.choice([64, 128, 256]), "max_tokens": rnd.randint(args.min_tokens, args.max_tokens)})
        t0 = time.perf_counter_ns()
        conn.request("POST", "/generate", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        tokens = []
        while True:
            line = resp.readline()  # http.client undoes the chunking
            if not line:
                break
            tokens.append(time.perf_counter_ns())
        t1 = time.perf_counter_ns()
        with lock:
            out.append((rid, t0, t1, tokens))
        if args.think_ms:
            time.sleep(rnd.uniform(0, args.think_ms) / 1000.0)
    conn.close()


def main():
    # The clients are threads of one process: a thread woken by its response waits for the GIL
    # up to the switch interval (5 ms by default), which would be counted as the server's time.
    sys.setswitchinterval(0.0002)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int)
    p.add_argument("--port-file", help="read the port from this file (waits for it)")
    p.add_argument("--requests", type=int, default=64)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--min-tokens", type=int, default=4)
    p.add_argument("--max-tokens", type=int, default=16)
    p.add_argument("--think-ms", type=float, default=20.0, help="random pause after each request, up to this")
    p.add_argument("--shutdown", action="store_true", help="POST /shutdown at the end")
    args = p.parse_args()
    port = args.port
    if port is None:
        while True:
            try:
                port = int(open(args.port_file).read())
                break
            except (OSError, ValueError, TypeError):
                time.sleep(0.05)
    ids = ["r%d" % i for i in range(args.requests)]
    out, lock = [], threading.Lock()
    threads = [threading.Thread(target=client, args=(args.host, port, ids[k :: args.concurrency], args, out, lock, k)) for k in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ms = 1e-6
    result = {
        "requests": len(out),
        "tokens": sum(len(t) for _, _, _, t in out),
        "latency": percentiles([(t1 - t0) * ms for _, t0, t1, _ in out]),
        "ttft": percentiles([(t[0] - t0) * ms for _, t0, _, t in out if t]),
        "itl": percentiles([(b - a) * ms for _, _, _, t in out for a, b in zip(t, t[1:])]),
    }
    print(json.dumps(result, indent=1))
    if args.shutdown:
        c = http.client.HTTPConnection(args.host, port, timeout=10)
        c.request("POST", "/shutdown")
        c.getresponse().read()


if __name__ == "__main__":
    main()
