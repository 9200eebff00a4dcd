import json, os
print(json.dumps(sorted(os.environ)))
