#!/bin/sh
# Run libFuzzer drivers one after the other (make fuzz): fuzz-run.sh SECONDS
# NAME... runs build/fuzz/fuzz_NAME for SECONDS on a scratch copy of
# fuzz/corpus/NAME in build/fuzz/new-NAME (new inputs stay there: the
# committed corpus changes only by hand), prints each driver's executions,
# and fails when a driver crashed, leaked or hung (its input is kept as
# build/fuzz/crash-NAME-*, its log as build/fuzz/NAME.log).
set -u
secs="$1"
shift
dir=build/fuzz
failed=""
printf '%-14s %12s %10s %8s  %s\n' driver executions exec/s corpus result
for n in "$@"; do
    bin="$dir/fuzz_$n"
    [ -x "$bin" ] || { echo "fuzz-run: $bin is not built" >&2; exit 2; }
    new="$dir/new-$n"
    rm -rf "$new"
    mkdir -p "$new"
    [ -d "fuzz/corpus/$n" ] && cp -p "fuzz/corpus/$n"/* "$new"/ 2>/dev/null
    log="$dir/$n.log"
    # -close_fd_mask=3: the drivers' own messages (a refused config line)
    # stay out; libFuzzer's and the sanitizers' reports still reach the log.
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=3 \
        -print_final_stats=1 -artifact_prefix="$dir/crash-$n-" "$new" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    inputs=$(ls "$new" | wc -l)
    if [ "$rc" -eq 0 ]; then
        result=ok
    else
        result="FAILED (rc $rc, see $log)"
        failed="$failed $n"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|artifact_prefix|Test unit written)' \
            "$log" | head -n 8 >&2
    fi
    printf '%-14s %12s %10s %8s  %s\n' "$n" "${execs:-?}" "${speed:-?}" "$inputs" "$result"
done
if [ -n "$failed" ]; then
    echo "fuzz: crashes in:$failed" >&2
    exit 1
fi
