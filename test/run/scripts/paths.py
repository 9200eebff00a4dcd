import json, os, sys
print(json.dumps({"PYTHONPATH": os.environ.get("PYTHONPATH"), "path": sys.path}))
