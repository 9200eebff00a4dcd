#!/usr/bin/env bash
# A launcher like pyenv's shim: bash runs helper commands, then execs the real interpreter. A
# signal sent to it while it waits for a helper is held by bash, then lost at the exec.
: "${SHIM_MARK:?}" "${SHIM_PYTHON:?}"
# InferScope first runs the interpreter once with -c to check that it is Python and its version:
# that start is not the one the test interrupts.
if [ "$1" != "-c" ]; then
  touch "$SHIM_MARK"
  sleep 1
fi
exec "$SHIM_PYTHON" "$@"
