"""A small CPU-only pipeline to try InferScope on any machine (no GPU, no torch):

    inferscope run examples/quickstart.py --steps 20

A loader thread reads and tokenizes "requests" into a queue; the main thread batches them,
runs a tiny pure-Python "model" and post-processes. `scope` names the phases on the timeline
(with attributes), `mark_event` drops instants; both are no-ops outside `inferscope run`.
Open the printed trace in https://ui.perfetto.dev, or read report.md.
"""

import argparse
import queue
import random
import threading

from inferscope import mark_event, scope

VOCAB = {w: i for i, w in enumerate("the a of to in and is for on with model batch token layer".split())}


def tokenize(text):
    return [VOCAB.get(w, len(VOCAB)) for w in text.lower().split()]


def pad(tokens, length):
    return (tokens + [0] * length)[:length]


@scope("load")
def load_requests(n, q):
    rng = random.Random(0)
    words = list(VOCAB) + ["unknown", "words", "here"]
    for i in range(n):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(20, 60)))
        q.put(pad(tokenize(text), 64))
    q.put(None)


def matvec(weights, vector):
    return [sum(w * v for w, v in zip(row, vector)) for row in weights]


def model(batch, weights):
    out = []
    for tokens in batch:
        hidden = matvec(weights, tokens)
        out.append(max(range(len(hidden)), key=hidden.__getitem__))
    return out


def postprocess(predictions):
    return [p % 7 for p in predictions]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()

    rng = random.Random(1)
    weights = [[rng.uniform(-1, 1) for _ in range(64)] for _ in range(32)]
    q = queue.Queue(maxsize=4 * args.batch)
    loader = threading.Thread(target=load_requests, args=(args.steps * args.batch, q), name="loader")
    loader.start()

    done = False
    for step in range(args.steps):
        with scope("step", step=step, batch=args.batch):
            with scope("collect"):
                batch = []
                while len(batch) < args.batch:
                    item = q.get()
                    if item is None:
                        done = True
                        break
                    batch.append(item)
            if not batch:
                break
            with scope("forward"):
                predictions = model(batch, weights)
            with scope("postprocess"):
                labels = postprocess(predictions)
        if step % 5 == 0:
            mark_event("progress", step=step, first_label=labels[0])
        if done:
            break
    loader.join()
    print("processed %d steps" % (step + 1))


if __name__ == "__main__":
    main()
