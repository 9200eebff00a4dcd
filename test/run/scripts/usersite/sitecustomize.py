# A user's own sitecustomize: InferScope's bootstrap must still let it run.
import sys
MARK = "user-site"
sys.stderr.write("user sitecustomize ran\n")
