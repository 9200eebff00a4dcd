"""A small LLM-style serving process to profile with InferScope (docs/serving.md).

An HTTP front end (standard library: ThreadingHTTPServer, HTTP/1.1 keep-alive, chunked streaming)
takes `POST /generate {"id": ..., "prompt_tokens": N, "max_tokens": M}` and streams one line per
generated token. The model (a tiny torch decoder) runs in a worker process started with `spawn`,
which batches the requests waiting in its queue (dynamic batching: up to --max-batch, waiting at
most --batch-wait-ms for more) and decodes one token per step for the whole batch.

The front end marks each request for InferScope: `request_begin()` when its request line is read,
`request_end()` after its last byte, a `schedule` mark when the worker took it into a batch, a
`token` mark as each token is written to the client, and its own work in a scope tagged with the
request (`scope("submit", request=id)`).
Outside `inferscope run` these calls do nothing.

    python examples/serving/server.py --port 8000
    inferscope run --capture manual examples/serving/server.py --port 8000   # records once the model is loaded
    python examples/serving/loadgen.py --port 8000 --requests 64 --concurrency 8 --shutdown

GET /health answers "ok" (not a marked request). POST /shutdown stops the server (so does Ctrl-C).
"""
import argparse
import json
import multiprocessing as mp
import os
import queue
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import inferscope
    from inferscope import mark_event, request_begin, request_end, scope
except ImportError:  # outside `inferscope run` and without `inferscope pythonpath` on PYTHONPATH
    inferscope = None

    class _Null:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    def request_begin(*a, **k):
        pass

    def request_end(*a, **k):
        pass

    def scope(*a, **k):
        return _Null()

    def mark_event(*a, **k):
        pass


# ---- the model, in the worker process ------------------------------------------------------------


def worker_main(inbox, outbox, max_batch, batch_wait_s, hidden, layers, threads, nice):
    import torch

    if nice:
        # CPU torch stands in for a GPU here: on a small machine its busy core would starve the
        # front end and the clients, which a GPU's asynchronous work does not.
        os.nice(nice)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    vocab = 512
    emb = torch.nn.Embedding(vocab, hidden)
    blocks = torch.nn.Sequential(*[torch.nn.Sequential(torch.nn.Linear(hidden, hidden), torch.nn.GELU()) for _ in range(layers)])
    head = torch.nn.Linear(hidden, vocab)

    @torch.no_grad()
    def forward(tokens):  # tokens: [batch, seq] → next token per row
        h = blocks(emb(tokens)).mean(dim=1)
        return head(h).argmax(dim=-1)

    forward(torch.zeros(1, 8, dtype=torch.long))  # warm-up
    outbox.put(("ready", None, None))
    active = []  # [rid, context tensor, tokens left]
    while True:
        # Dynamic batching: take what is waiting; when idle, block for the first request, then
        # wait up to batch_wait_s for more.
        try:
            first = inbox.get(timeout=None if not active else 0)
        except queue.Empty:
            first = None
        if first == "stop":
            return
        arrivals = [first] if first is not None else []
        deadline = time.monotonic() + (batch_wait_s if not active else 0)
        while len(active) + len(arrivals) < max_batch:
            left = deadline - time.monotonic()
            try:
                item = inbox.get(timeout=left) if left > 0 else inbox.get_nowait()
            except queue.Empty:
                break
            if item == "stop":
                return
            arrivals.append(item)
        for rid, prompt_tokens, max_tokens in arrivals:
            outbox.put(("scheduled", rid, None))
            ctx = torch.randint(0, vocab, (1, prompt_tokens))
            nxt = forward(ctx)  # prefill: the whole prompt
            outbox.put(("token", rid, int(nxt[0])))
            active.append([rid, torch.cat([ctx, nxt.view(1, 1)], dim=1), max_tokens - 1])
        done = [a for a in active if a[2] <= 0]
        for a in done:
            outbox.put(("done", a[0], None))
        active = [a for a in active if a[2] > 0]
        if not active:
            continue
        # One decode step for the whole batch: the last 16 tokens of every sequence.
        batch = torch.stack([a[1][0, -16:] if a[1].shape[1] >= 16 else torch.nn.functional.pad(a[1][0], (16 - a[1].shape[1], 0)) for a in active])
        nxt = forward(batch)
        for a, t in zip(active, nxt.tolist()):
            a[1] = torch.cat([a[1], torch.tensor([[t]])], dim=1)
            a[2] -= 1
            outbox.put(("token", a[0], t))
            if a[2] <= 0:
                outbox.put(("done", a[0], None))
        active = [a for a in active if a[2] > 0]


# ---- the front end ------------------------------------------------------------------------------


class Front:
    def __init__(self, args):
        ctx = mp.get_context("spawn")
        self.inbox = ctx.Queue()
        self.outbox = ctx.Queue()
        self.worker = ctx.Process(
            target=worker_main,
            args=(self.inbox, self.outbox, args.max_batch, args.batch_wait_ms / 1000.0, args.hidden, args.layers, args.torch_threads, args.worker_nice),
            name="model-worker",
        )
        self.streams = {}  # rid → queue.Queue of ("token", t) / ("done", None) / ("scheduled", None)
        self.lock = threading.Lock()

    def start(self):
        self.worker.start()
        kind, _, _ = self.outbox.get()
        assert kind == "ready"
        threading.Thread(target=self.route, name="router", daemon=True).start()

    def route(self):
        while True:
            kind, rid, value = self.outbox.get()
            with self.lock:
                q = self.streams.get(rid)
            if q is not None:
                q.put((kind, value))

    def submit(self, rid, prompt_tokens, max_tokens):
        q = queue.Queue()
        with self.lock:
            self.streams[rid] = q
        self.inbox.put((rid, prompt_tokens, max_tokens))
        return q

    def forget(self, rid):
        with self.lock:
            self.streams.pop(rid, None)

    def stop(self):
        self.inbox.put("stop")
        self.worker.join(10)


_ids = iter(range(1, 1 << 62))
_ids_lock = threading.Lock()


def next_id():
    with _ids_lock:
        return "q%d" % next(_ids)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the load generator reuses its connections
    disable_nagle_algorithm = True  # each token goes out at once, not after the client's delayed ACK
    front = None
    server_ref = None

    def log_message(self, *a):
        pass

    def do_GET(self):
        # GET /health: not a request of the model (not marked); the load generator opens each
        # connection with it, so the server's connection thread exists before the timed requests.
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def parse_request(self):
        # A generate request begins as soon as its request line is read, before the headers are
        # parsed: as close as the server can see to when the client sent it.
        self.rid = None
        if self.raw_requestline.startswith(b"POST /generate"):
            self.rid = next_id()
            request_begin(self.rid)
        return super().parse_request()

    def do_POST(self):
        if self.path == "/shutdown":
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            threading.Thread(target=self.server_ref.shutdown, daemon=True).start()
            return
        rid = self.rid
        try:
            self.generate(rid)
        finally:
            request_end(rid)

    def generate(self, rid):
        with scope("submit", request=rid):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            stream = self.front.submit(rid, int(body.get("prompt_tokens", 32)), int(body.get("max_tokens", 8)))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
        while True:
            kind, value = stream.get()
            if kind == "scheduled":
                mark_event("schedule", request=rid)
                continue
            if kind == "done":
                break
            line = (json.dumps({"token": value}) + "\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.flush()
            mark_event("token", request=rid)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.front.forget(rid)


def main():
    # Many I/O threads: hand the GIL over sooner than every 5 ms, so a connection thread woken by
    # its socket or its token queue runs at once (lower tail latency, a usual setting for servers).
    sys.setswitchinterval(0.0002)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=8000, help="0: any free port")
    p.add_argument("--port-file", help="write the port here once serving")
    p.add_argument("--max-batch", type=int, default=8)
    p.add_argument("--batch-wait-ms", type=float, default=5.0)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--worker-nice", type=int, default=10, help="CPU priority of the model worker (os.nice), so it cannot starve the front end")
    args = p.parse_args()
    front = Front(args)
    front.start()
    if inferscope is not None:
        inferscope.start()  # under `inferscope run --capture manual`: record from here, the model loaded
    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    httpd.daemon_threads = True
    Handler.front = front
    Handler.server_ref = httpd
    port = httpd.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, args.port_file)
    print("serving on http://127.0.0.1:%d (POST /generate, POST /shutdown)" % port, flush=True)
    try:
        httpd.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    finally:
        httpd.server_close()
        front.stop()


if __name__ == "__main__":
    main()
