-- wrk script: /auth/verify with a different access token on every request. TOKENS_FILE holds
-- valid tokens, one per line (BenchServer's BENCH_TOKENS); each wrk thread sends its own slice
-- in order. done() prints how many requests went out: more than the tokens available means some
-- tokens were sent twice and hit the verified-token cache (make the run shorter or mint more).
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  local per = math.floor(#tokens / tonumber(os.getenv("THREADS") or "2"))
  first = id * per
  size = per
  sent = 0
end

function request()
  local token = tokens[first + (sent % size) + 1]
  sent = sent + 1
  return wrk.format("GET", "/auth/verify", {["Authorization"] = "Bearer " .. token})
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("sent") end
  io.write(string.format("tokens %d, requests %d\n", #tokens, total))
end
