#!/usr/bin/env bash
# The whole test suite from a fresh clone: install, build the plugins and the binary, type-check,
# run every test. The last line is the count, "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
set -e
bash scripts/setup.sh --test
BUN=node_modules/.bin/bun
$BUN run plugins-wasm/build.ts
$BUN run scripts/compile.ts
set +e

failed_steps=0
echo "== tsc --noEmit"
if node_modules/.bin/tsc --noEmit -p .; then tsc_ok=1; else tsc_ok=0; failed_steps=1; fi

echo "== bun test"
log=$(mktemp)
$BUN test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
pass=$(grep -Eo '^ *[0-9]+ pass' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
fail=$(grep -Eo '^ *[0-9]+ fail' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
# CI shows only the tail of the output: repeat every failure and unhandled error (with the file it ran
# in) there, so a failure far up the log can still be diagnosed.
if grep -q '^(fail)\|Unhandled error' "$log"; then
  echo "== failures (repeated from above)"
  awk '/^tests\/.*\.test\.ts:$/ { file = $0; k = 0; next }
       /^[0-9]+ tests? failed:$/ { exit }
       /^\(pass\)|^\(skip\)/ { k = 0; next }
       /^\(fail\)/ { print "---- " file; for (i = 0; i < k; i++) print buf[i]; print; k = 0; next }
       /^(# )?Unhandled error/ { print "---- " file; n = 16 }
       n > 0 { print; n--; next }
       { if (k < 14) buf[k++] = $0; else { for (i = 1; i < 14; i++) buf[i-1] = buf[i]; buf[13] = $0 } }' "$log" | head -200
fi
rm -f "$log"
pass=$((pass + tsc_ok))
fail=$((fail + 1 - tsc_ok))
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
echo "tests: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ] && [ "$failed_steps" -eq 0 ] && [ "$pass" -gt 0 ]
