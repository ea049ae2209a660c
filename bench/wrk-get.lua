-- SPDX-License-Identifier: ISC
--
-- bench/wrk-get.lua: wrk script for bench/serve-tls.  GET requests (the
-- URL's, with wrk's -H headers); every response's status is counted, and
-- the end prints two lines for the caller to parse:
--
--   wrk-get: responses=N non2xx=M
--   wrk-get: requests=N duration_us=D p50_us=X p99_us=Y max_us=Z
--            errors=CONNECT,READ,WRITE,TIMEOUT    (on one line)

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   responses = 0
   non2xx = 0
end

function response(status, headers, body)
   responses = responses + 1
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
end

function done(summary, latency, requests)
   local n, bad = 0, 0
   for _, t in ipairs(threads) do
      n = n + t:get("responses")
      bad = bad + t:get("non2xx")
   end
   io.write(string.format("wrk-get: responses=%d non2xx=%d\n", n, bad))
   local e = summary.errors
   io.write(string.format("wrk-get: requests=%d duration_us=%d " ..
                          "p50_us=%d p99_us=%d max_us=%d " ..
                          "errors=%d,%d,%d,%d\n",
                          summary.requests, summary.duration,
                          latency:percentile(50), latency:percentile(99),
                          latency.max, e.connect, e.read, e.write,
                          e.timeout))
end
