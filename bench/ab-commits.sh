#!/bin/bash
# ab-commits.sh <commit> <port>: serves examples/models from a worktree of <commit> (made under
# ${AB_DIR:-/tmp/sibyl-ab}/<commit>, with hard links to this checkout's node_modules) and prints the
# req/s of tabular_mlp, V2 JSON batch-1, closed loop c64, 8 s after 2 s warm-up, measured by this
# checkout's load generator (`sibyl-bench`, the same as `sibyl bench`). Loopback only, bounded in
# time. See results/2026-12-07-hot-path-ab.md.
set -u
c=$1; port=$2
root=$(cd "$(dirname "$0")/.." && pwd)
d=${AB_DIR:-/tmp/sibyl-ab}/$c
[ -d "$d" ] || { git -C "$root" worktree add -q --detach "$d" "$c" && cp -al "$root/node_modules" "$d/node_modules"; }
cd "$d"
node_modules/.bin/sibyl serve --http-port "$port" --grpc-port $((port + 1)) --host 127.0.0.1 --state-store :memory: > "/tmp/ab-$c.log" 2>&1 &
pid=$!
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$port/v2/health/ready" > /dev/null && break; sleep 0.5; done
"$root/node_modules/.bin/sibyl-bench" --url "http://127.0.0.1:$port" -m tabular_mlp -c 64 --duration-seconds 8 --warmup-seconds 2 2> /dev/null | grep 'requests/s' | sed "s/^/$c /"
kill -TERM "$pid"; wait "$pid" 2> /dev/null
