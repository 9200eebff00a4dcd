# Prints what a script can see of how it was started; the parity test compares plain python with
# inferscope run.
import json, os, sys

data = {
    "name": __name__,
    "argv": sys.argv,
    "path0": sys.path[0],
    "cwd": os.getcwd(),
    "file": __file__,
    "stdin": sys.stdin.read(),
    "spec": repr(__spec__),
    "sitecustomize": getattr(sys.modules.get("sitecustomize"), "MARK", None),
}
print(json.dumps(data))
sys.stdout.flush()
print("to stderr: ok", file=sys.stderr)
code = int(os.environ.get("PARITY_EXIT", "0"))
if os.environ.get("PARITY_RAISE"):
    def inner():
        raise ValueError("boom " + str(len(sys.argv)))
    inner()
sys.exit(code)
