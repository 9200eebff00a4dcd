#!/usr/bin/env bash
# A launcher like pyenv's shim: bash runs helper commands, then execs the real interpreter. A
# signal sent to it while it waits for a helper is held by bash, then lost at the exec.
: "${SHIM_MARK:?}" "${SHIM_PYTHON:?}"
touch "$SHIM_MARK"
sleep 1
exec "$SHIM_PYTHON" "$@"
