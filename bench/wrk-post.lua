-- SPDX-License-Identifier: ISC
--
-- bench/wrk-post.lua: wrk script for bench/serve.  Every request POSTs the
-- same file as the body with the given content type; every response's
-- status is counted, and the end prints two lines for the caller to parse:
--
--   wrk-post: responses=N non2xx=M statuses=200:N[,415:K...]
--   wrk-post: requests=N duration_us=D p50_us=X p99_us=Y max_us=Z
--             errors=CONNECT,READ,WRITE,TIMEOUT    (on one line)
--
-- usage: wrk ... -s bench/wrk-post.lua URL -- FILE [CONTENT_TYPE [HEADER]]
--        (CONTENT_TYPE defaults to image/jpeg; HEADER, "Name: value", is
--        one more request header)
--        wrk ... -s bench/wrk-post.lua URL -- -
--        (FILE "-": GET requests, no body; wrk's -H headers only)

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local path = args[1]
   if not path then
      error("wrk-post.lua: usage: -- FILE [CONTENT_TYPE [HEADER]] | -")
   end
   responses = 0
   non2xx = 0
   statuses = {}
   if path == "-" then
      return
   end
   local f = assert(io.open(path, "rb"))
   local body = f:read("*a")
   f:close()
   wrk.method = "POST"
   wrk.body = body
   wrk.headers["Content-Type"] = args[2] or "image/jpeg"
   if args[3] then
      local k, v = args[3]:match("^([%w-]+):%s*(.*)$")
      if not k then
         error("wrk-post.lua: HEADER must be 'Name: value'")
      end
      wrk.headers[k] = v
   end
end

function response(status, headers, body)
   responses = responses + 1
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local n, bad, all = 0, 0, {}
   for _, t in ipairs(threads) do
      n = n + t:get("responses")
      bad = bad + t:get("non2xx")
      for s, c in pairs(t:get("statuses")) do
         all[s] = (all[s] or 0) + c
      end
   end
   local keys = {}
   for s in pairs(all) do
      table.insert(keys, s)
   end
   table.sort(keys)
   local parts = {}
   for _, s in ipairs(keys) do
      table.insert(parts, s .. ":" .. all[s])
   end
   io.write(string.format("wrk-post: responses=%d non2xx=%d statuses=%s\n",
                          n, bad, table.concat(parts, ",")))
   -- Exact figures (wrk's own text rounds to 3 significant digits).
   local e = summary.errors
   io.write(string.format("wrk-post: requests=%d duration_us=%d " ..
                          "p50_us=%d p99_us=%d max_us=%d " ..
                          "errors=%d,%d,%d,%d\n",
                          summary.requests, summary.duration,
                          latency:percentile(50), latency:percentile(99),
                          latency.max, e.connect, e.read, e.write,
                          e.timeout))
end
