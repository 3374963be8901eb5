#!/bin/bash
# auth-overhead.sh [rounds=3] [port=19200]: the tabular c64 benchmark (tabular_mlp, V2 JSON
# batch-1, closed loop c64, 8 s after 2 s warm-up, measured by this checkout's sibyl-bench) on
# this checkout with authentication off, with an API key and with an HS256 JWT, rounds times in
# turn, plus bare Fastify (the HTTP ceiling) once per round. Loopback only, bounded in time.
# The key and the token carry infer:* and read (sibyl-bench reads the model metadata first).
# Prints one line per run: "<variant> requests/s <n>". See results/2026-12-08-auth-overhead.md.
set -u
rounds=${1:-3}; port=${2:-19200}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
key=sibyl-bench-key-0123456789abcdef0123456789abcdef
secret=sibyl-bench-secret-0123456789abcdef0123456789abcdef
sha=$(printf %s "$key" | sha256sum | cut -d' ' -f1)
jwt=$(node -e '
const { createHmac } = require("node:crypto");
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const now = Math.floor(Date.now() / 1000);
const body = b64({ alg: "HS256", typ: "JWT" }) + "." + b64({ sub: "bench", scope: "infer:* read", iat: now, exp: now + 3600 });
console.log(body + "." + createHmac("sha256", process.argv[1]).update(body).digest("base64url"));' "$secret")
cat > "$tmp/auth.yaml" <<YAML
auth:
  apiKeys:
    bench: { sha256: $sha, scopes: ["infer:*", read] }
  jwt:
    secret: $secret
YAML
bench() { node_modules/.bin/sibyl-bench --url "http://127.0.0.1:$port" -m tabular_mlp -c 64 --duration-seconds 8 --warmup-seconds 2 "$@" 2> /dev/null | grep 'requests/s' | awk '{print $2}'; }
serve() {
  node_modules/.bin/sibyl serve --model-repository examples/models --http-port "$port" --grpc-port $((port + 1)) --host 127.0.0.1 --state-store :memory: "$@" > "$tmp/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/v2/health/ready" > /dev/null && break; sleep 0.5; done
}
stop() { kill -TERM "$pid"; wait "$pid" 2> /dev/null; }
for _ in $(seq "$rounds"); do
  node --import tsx bench/servers/bare-fastify.ts "$port" > /dev/null 2>&1 & fpid=$!
  sleep 2; echo "bare-fastify requests/s $(bench)"; kill "$fpid"; wait "$fpid" 2> /dev/null
  # Each variant on a fresh server, so that none inherits another's warmed-up JIT.
  serve; echo "auth-off requests/s $(bench)"; stop
  serve --config "$tmp/auth.yaml"; echo "api-key requests/s $(bench -H "x-api-key: $key")"; stop
  serve --config "$tmp/auth.yaml"; echo "jwt-hs256 requests/s $(bench -H "authorization: Bearer $jwt")"; stop
done
rm -rf "$tmp"
