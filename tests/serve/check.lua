-- wrk script for tests/serve/serve-tests.sh: POST Echo with a fixed body and check every response.
-- Counts responses, wrong bodies and statuses; done() prints one line the test parses.
local text = "wrk \226\156\147 glint"
wrk.method = "POST"
wrk.body = '["' .. text .. '"]'
wrk.headers["Content-Type"] = "application/json"
local expected = '{"result":"' .. text .. '"}'

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   responses, wrong, busy, other = 0, 0, 0, 0
end

function response(status, headers, body)
   responses = responses + 1
   if status == 200 then
      if body ~= expected then
         wrong = wrong + 1
      end
   elseif status == 429 then
      busy = busy + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local r, w, b, o = 0, 0, 0, 0
   for _, t in ipairs(threads) do
      r = r + t:get("responses")
      w = w + t:get("wrong")
      b = b + t:get("busy")
      o = o + t:get("other")
   end
   io.write(string.format("wrk-check: responses=%d wrong=%d busy429=%d other=%d errors=%d p50_us=%d p99_us=%d rps=%.0f\n",
      r, w, b, o, summary.errors.connect + summary.errors.read + summary.errors.write +
      summary.errors.timeout, latency:percentile(50), latency:percentile(99),
      summary.requests / (summary.duration / 1e6)))
end
