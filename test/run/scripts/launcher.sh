#!/bin/sh
# A launcher script in front of the interpreter, like pyenv's or asdf's shim: its own work (here a
# 0.3 s sleep, for the version probe too) before it execs the real interpreter.
: "${LAUNCHER_PYTHON:?}"
sleep 0.3
exec "$LAUNCHER_PYTHON" "$@"
