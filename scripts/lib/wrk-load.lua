-- wrk script of scripts/bench-load. WRK_MODE: "get" (the URL as given), "login" (POST
-- /users/login as the seeded viewer0001) or "mixed" (current-user 40%, the catalogue 25%, the
-- watch page 25%, login 10%; WRK_VIDEO names the video). Prints one RESULT line.
local mode = os.getenv("WRK_MODE") or "get"
local login_body = '{"username":"viewer0001","password":"benchmark-password"}'

local function login()
  return wrk.format("POST", "/api/v1/users/login", { ["Content-Type"] = "application/json" }, login_body)
end

if mode == "login" then
  request = login
elseif mode == "mixed" then
  local video = os.getenv("WRK_VIDEO")
  local counter = 0
  request = function()
    counter = counter + 1
    local pick = counter % 20
    if pick < 8 then
      return wrk.format("GET", "/api/v1/users/current-user")
    elseif pick < 13 then
      return wrk.format("GET", "/api/v1/videos?page=1&limit=20")
    elseif pick < 18 then
      return wrk.format("GET", "/api/v1/videos/" .. video)
    else
      return login()
    end
  end
end

done = function(summary, latency, requests)
  local failed = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT rps=%.1f p50=%.2f p99=%.2f p999=%.2f failed=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, failed))
end
