import json, sys
print(json.dumps({"name": __name__, "argv": sys.argv, "path0": sys.path[0], "package": __package__}))
sys.exit(4)
