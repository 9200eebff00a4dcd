# Is the tracer active here, and in a Python subprocess of this script?
import json, subprocess, sys
import inferscope
child = subprocess.run([sys.executable, "-c", "import inferscope, json; print(json.dumps(inferscope.is_active()))"], capture_output=True, text=True)
print(json.dumps({"parent": inferscope.is_active(), "child": json.loads(child.stdout), "childErr": child.stderr}))
