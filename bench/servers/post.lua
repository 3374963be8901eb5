-- wrk script: POST the same small V2 JSON request that `sibyl bench` generates for the bare
-- server's model m (input x FP32 [1,4]).
--   wrk -t1 -c64 -d10s -s bench/servers/post.lua http://127.0.0.1:8010/v2/models/m/infer
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[0.5,0.25,0.125,0.75]}]}'
