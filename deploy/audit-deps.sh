#!/usr/bin/env bash
# The dependency audit of CI (and `make audit`): pip-audit over requirements.lock, the locked
# runtime dependencies the image installs, asking PyPI's vulnerability data.
# Exit status: 0 every locked package checked, no known vulnerability; 1 a known vulnerability not
# accepted in deploy/pip-audit-ignore.txt (with or without a fixed release), or pip-audit failed;
# 75 the vulnerability service could not be asked for some or all packages (said plainly: never a
# silent pass). README "Dependency audit" says why .ci/run warns rather than fails on 75.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${AUDIT_VENV:-.venv-audit}
PIP_AUDIT=pip-audit==2.10.1
EX_UNAVAILABLE=75

if ! "$VENV/bin/pip-audit" --version 2>/dev/null | grep -qx "${PIP_AUDIT/==/ }"; then
  log=$(mktemp)
  if ! { python3.11 -m venv "$VENV" && "$VENV/bin/pip" install -q "$PIP_AUDIT"; } >"$log" 2>&1; then
    tail -3 "$log" >&2
    rm -f "$log"
    echo "ci: dependency audit skipped: could not install $PIP_AUDIT"
    exit "$EX_UNAVAILABLE"
  fi
  rm -f "$log"
fi

ignores=()
while read -r id _; do
  case "$id" in ''|'#'*) ;; *) ignores+=(--ignore-vuln "$id") ;; esac
done < deploy/pip-audit-ignore.txt

out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
# --no-deps --disable-pip: the lock pins every package, so nothing is resolved or installed.
# Not --strict: a package the service cannot answer for is reported by audit_verdict.py instead.
status=0
"$VENV/bin/pip-audit" -r requirements.lock --no-deps --disable-pip --progress-spinner off \
  -f json -o "$out" ${ignores[@]+"${ignores[@]}"} 2>"$err" || status=$?
"$VENV/bin/python" deploy/audit_verdict.py "$out" "$err" "$status"
