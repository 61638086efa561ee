-- envelope.lua: the REST envelope of the back office, made at the edge.
--
-- The gRPC server answers plain resources; what only it knows travels as response
-- metadata (the edge protocol): x-bank-http-status, x-bank-message,
-- x-bank-pagination, x-bank-raw on success (initial metadata), and
-- x-bank-error-code/-message/-details/-field, x-bank-oauth-error on error (trailing
-- metadata of a Trailers-Only response, hence HTTP headers here). This filter sits
-- before grpc_json_transcoder, so on the way back it sees the transcoded JSON.
--
-- Three kinds of responses reach envoy_on_response:
--   1. Envoy's own replies (no route, bad JSON, 413, upstream down...): they carry
--      no grpc-status and local_reply_config already enveloped them. Left alone.
--   2. gRPC errors (grpc-status other than 0): the error envelope, or an RFC 6749
--      error body on /oauth/ and /.well-known/ (or when x-bank-oauth-error is set).
--   3. gRPC successes: the success envelope around the JSON, unless the response
--      is raw (x-bank-raw: 1, /oauth/, /.well-known/, or a non-JSON HttpBody).
-- In every case grpc-*, x-bank-* and x-envoy-* headers are removed.

local NAMESPACE = "backoffice.envelope"  -- dynamic metadata shared by both halves

-- grpc-status -> HTTP status, error code, message, for errors without x-bank-*
-- keys (gRPC library errors, a dead server). The messages are fixed: whatever is
-- in grpc-message may hold internals.
local GRPC_FALLBACK = {
  ["3"] = {400, "INVALID_REQUEST", "Invalid request"},
  ["4"] = {504, "TIMEOUT", "Request timed out"},
  ["5"] = {404, "NOT_FOUND", "Resource not found"},
  ["6"] = {409, "CONFLICT", "Resource already exists"},
  ["7"] = {403, "FORBIDDEN", "Forbidden"},
  -- The server's rate limits always send x-bank-error-code (429 RATE_LIMITED), so a
  -- bare RESOURCE_EXHAUSTED is gRPC's own limit on what Envoy forwarded: the
  -- metadata (the request's headers) too large. Never a rate limit.
  ["8"] = {431, "REQUEST_HEADERS_TOO_LARGE", "Request headers too large"},
  ["9"] = {422, "VALIDATION_ERROR", "Validation failed"},
  ["10"] = {409, "CONFLICT", "Conflict"},
  ["12"] = {501, "NOT_IMPLEMENTED", "Not implemented"},
  ["14"] = {503, "UNAVAILABLE", "Service unavailable"},
  ["16"] = {401, "UNAUTHORIZED", "Unauthorized"},
}
local INTERNAL = {500, "INTERNAL", "Internal error"}

-- RFC 6749 error word for an OAuth error that came without x-bank-oauth-error.
local OAUTH_FALLBACK = {[400] = "invalid_request", [401] = "invalid_client", [503] = "temporarily_unavailable"}

-- RFC 3986 percent-decoding ("+" stays "+").
local function percent_decode(text)
  return (text:gsub("%%(%x%x)", function(hex) return string.char(tonumber(hex, 16)) end))
end

local JSON_ESCAPES = {['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
                      ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t"}

-- A JSON string literal; other control characters become \u00XX, UTF-8 stays as is.
local function json_string(text)
  return '"' .. text:gsub('[%c"\\]', function(c)
    return JSON_ESCAPES[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

-- "201" -> 201; anything that is not an HTTP status -> default.
local function http_status(value, default)
  local number = tonumber(value)
  if number and number >= 100 and number <= 599 and number % 1 == 0 then return number end
  return default
end

local function starts_with(text, prefix)
  return text:sub(1, #prefix) == prefix
end

-- Removes the internal headers from a header map (collected first: a header map
-- must not change while it is iterated).
local function strip_internal(headers)
  if headers == nil then return end
  local doomed = {}
  for name, _ in pairs(headers) do
    if starts_with(name, "grpc-") or starts_with(name, "x-bank-") or starts_with(name, "x-envoy-") then
      doomed[#doomed + 1] = name
    end
  end
  for _, name in ipairs(doomed) do headers:remove(name) end
end

-- Puts a JSON body in place of the current one, with matching headers.
local function replace_body(headers, body, json)
  if body == nil then return end  -- never expected (see envelope()), but never fatal
  body:setBytes(json)
  headers:replace("content-length", tostring(#json))
  headers:replace("content-type", "application/json")
end

local function meta_json(request_id)
  return '{"timestamp":' .. json_string(os.date("!%Y-%m-%dT%H:%M:%SZ")) ..
         ',"requestId":' .. json_string(request_id) .. ',"version":"v1"}'
end

-- The error envelope; details and field are left out when empty.
local function error_envelope(code, message, details, field, request_id)
  local err = '{"code":' .. json_string(code) .. ',"message":' .. json_string(message)
  if details and details ~= "" then err = err .. ',"details":' .. json_string(details) end
  if field and field ~= "" then err = err .. ',"field":' .. json_string(field) end
  return '{"success":false,"status":"error","message":' .. json_string(message) ..
         ',"error":' .. err .. '},"meta":' .. meta_json(request_id) .. '}'
end

-- A caller's X-Request-ID lands in JSON, headers and logs, so it must look like
-- one (the server's interceptor applies the same rule); else it is replaced.
local REQUEST_ID_LENGTH_MAX = 128
local function valid_request_id(id)
  return id ~= nil and #id <= REQUEST_ID_LENGTH_MAX and id:match("^[%w._:%-]+$") ~= nil
end

-- Seeded once per worker from the kernel, so that workers never share a sequence.
do
  local seed = os.time()
  local urandom = io.open("/dev/urandom", "rb")
  if urandom then
    local bytes = urandom:read(6)
    urandom:close()
    seed = 0
    for i = 1, #bytes do seed = seed * 256 + bytes:byte(i) end
  end
  math.randomseed(seed)
end

-- A random (version 4) UUID, the format Envoy itself generates.
local function new_request_id()
  return (("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"):gsub("[xy]", function(c)
    return string.format("%x", c == "x" and math.random(0, 15) or math.random(8, 11))
  end))
end

-- SHA-256 (FIPS 180-4), for request signing: Envoy's Lua offers no digest. LuaJIT's
-- `bit` works on signed 32-bit integers; tobit() wraps sums back into that range.
local bit = require("bit")
local band, bnot, bxor = bit.band, bit.bnot, bit.bxor
local ror, rshift, tobit = bit.ror, bit.rshift, bit.tobit
local SHA256_K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

-- Lowercase hex SHA-256 of a string.
local function sha256_hex(message)
  local length = #message
  -- Padding: 0x80, zeros to 56 mod 64, the length in bits as 64-bit big-endian.
  local bits = length * 8
  local high, low = math.floor(bits / 2^32), bits % 2^32
  message = message .. "\128" .. string.rep("\0", (55 - length) % 64) ..
    string.char(rshift(high, 24) % 256, rshift(high, 16) % 256, rshift(high, 8) % 256, high % 256,
                math.floor(low / 2^24) % 256, math.floor(low / 2^16) % 256,
                math.floor(low / 2^8) % 256, low % 256)
  local h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}
  for i = 1, 8 do h[i] = tobit(h[i]) end
  local w = {}
  for chunk = 1, #message, 64 do
    for i = 0, 15 do
      local b1, b2, b3, b4 = message:byte(chunk + i * 4, chunk + i * 4 + 3)
      w[i] = tobit(b1 * 2^24 + b2 * 2^16 + b3 * 2^8 + b4)
    end
    for i = 16, 63 do
      local w15, w2 = w[i - 15], w[i - 2]
      local s0 = bxor(ror(w15, 7), ror(w15, 18), rshift(w15, 3))
      local s1 = bxor(ror(w2, 17), ror(w2, 19), rshift(w2, 10))
      w[i] = tobit(w[i - 16] + s0 + w[i - 7] + s1)
    end
    local a, b, c, d, e, f, g, hh = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
    for i = 0, 63 do
      local s1 = bxor(ror(e, 6), ror(e, 11), ror(e, 25))
      local choice = bxor(band(e, f), band(bnot(e), g))
      local t1 = tobit(hh + s1 + choice + SHA256_K[i + 1] + w[i])
      local s0 = bxor(ror(a, 2), ror(a, 13), ror(a, 22))
      local majority = bxor(band(a, b), band(a, c), band(b, c))
      hh, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + s0 + majority)
    end
    h[1], h[2], h[3], h[4] = tobit(h[1] + a), tobit(h[2] + b), tobit(h[3] + c), tobit(h[4] + d)
    h[5], h[6], h[7], h[8] = tobit(h[5] + e), tobit(h[6] + f), tobit(h[7] + g), tobit(h[8] + hh)
  end
  local hex = {}
  for i = 1, 8 do hex[i] = bit.tohex(h[i], 8) end
  return table.concat(hex)
end

-- Request signing (README "Request signing"): the server checks the signature over the
-- request as the client sent it, which it no longer sees once transcoded. So a signed
-- request carries its method, path with query, and body SHA-256 in x-bank-* headers;
-- client-sent values under these names are dropped first. A body over the 1 MiB limit
-- is not hashed: the buffer filter refuses it (413) right after.
local SIGNED_BODY_BYTES_MAX = 1048576
local function pass_signed_request(request_handle)
  local headers = request_handle:headers()
  headers:remove("x-bank-rest-method")
  headers:remove("x-bank-rest-path")
  headers:remove("x-bank-body-sha256")
  if headers:get("x-signature") == nil then return end
  headers:add("x-bank-rest-method", headers:get(":method") or "")
  headers:add("x-bank-rest-path", headers:get(":path") or "")
  local declared = headers:get("content-length")  -- nothing at all when absent
  if declared ~= nil and (tonumber(declared) or 0) > SIGNED_BODY_BYTES_MAX then return end
  local body = request_handle:body()  -- the whole body (nil when there is none)
  local length = body and body:length() or 0
  if length > SIGNED_BODY_BYTES_MAX then return end
  local raw = length > 0 and body:getBytes(0, length) or ""
  -- Header objects taken before body() are dead after it.
  request_handle:headers():add("x-bank-body-sha256", sha256_hex(raw))
end

function envoy_on_request(request_handle)
  local headers = request_handle:headers()
  local request_id = headers:get("x-request-id")
  if not valid_request_id(request_id) then
    request_id = new_request_id()
    headers:replace("x-request-id", request_id)  -- what the server and the client see
  end
  -- The transcoder rewrites :path, and the response side cannot read request
  -- headers, so keep what it needs.
  -- The client's address as Envoy saw it, for the server's records and IP
  -- allowlists; whatever a client sent under this name is dropped first.
  headers:remove("x-bank-client-ip")
  local remote = request_handle:streamInfo():downstreamDirectRemoteAddress() or ""
  headers:add("x-bank-client-ip", (remote:gsub(":%d+$", ""):gsub("^%[(.*)%]$", "%1")))
  -- The scheme the client used (the OAuth metadata's URLs); a client's own value is replaced.
  headers:replace("x-forwarded-proto", request_handle:connection():ssl() ~= nil and "https" or "http")
  local metadata = request_handle:streamInfo():dynamicMetadata()
  metadata:set(NAMESPACE, "path", headers:get(":path") or "")
  metadata:set(NAMESPACE, "request_id", request_id)
  pass_signed_request(request_handle)
end

-- In both builders, get(name, decode) reads a protocol key from the response
-- headers (or trailers), percent-decoded when `decode` is true.
local function error_response(headers, body, get, grpc_status, path, request_id)
  local fallback = GRPC_FALLBACK[grpc_status] or INTERNAL
  local status = http_status(get("x-bank-http-status"), fallback[1])
  local code = get("x-bank-error-code") or fallback[2]
  local message = get("x-bank-error-message", true) or fallback[3]
  headers:replace(":status", tostring(status))

  local oauth_error = get("x-bank-oauth-error")
  if oauth_error or starts_with(path, "/oauth/") or starts_with(path, "/.well-known/") then
    -- RFC 6749 section 5.2 body; www-authenticate (if any) passes through.
    oauth_error = oauth_error or OAUTH_FALLBACK[status] or "server_error"
    replace_body(headers, body, '{"error":' .. json_string(oauth_error) ..
      ',"error_description":' .. json_string(message) .. '}')
  else
    replace_body(headers, body, error_envelope(code, message,
      get("x-bank-error-details", true), get("x-bank-error-field", true), request_id))
  end
end

local function success_response(headers, body, get, path, request_id)
  headers:replace(":status", tostring(http_status(get("x-bank-http-status"), 200)))
  local content_type = headers:get("content-type") or ""
  if get("x-bank-raw") == "1" or starts_with(path, "/oauth/") or starts_with(path, "/.well-known/")
      or not starts_with(content_type, "application/json") then
    return  -- file downloads, OAuth RFC bodies, HTML: untouched
  end
  local data = body:length() > 0 and body:getBytes(0, body:length()) or "{}"
  local json = '{"success":true,"status":"success","message":' ..
    json_string(get("x-bank-message", true) or "OK") .. ',"data":' .. data
  local pagination = get("x-bank-pagination")
  if pagination and pagination:match("^%s*{.*}%s*$") then
    json = json .. ',"pagination":' .. pagination
  end
  replace_body(headers, body, json .. ',"meta":' .. meta_json(request_id) .. '}')
end

local function envelope(handle)
  local headers = handle:headers()
  local grpc_status = headers:get("grpc-status")
  if grpc_status == nil then
    strip_internal(headers)  -- an Envoy local reply, already enveloped
    return
  end

  local request = handle:streamInfo():dynamicMetadata():get(NAMESPACE) or {}
  local path = request["path"] or ""
  local request_id = request["request_id"] or headers:get("x-request-id") or ""
  -- Waits for the whole (already buffered) response; true: a body object even
  -- for a Trailers-Only error, which has none. Header objects taken before
  -- body() are dead after it, so they are fetched again.
  local body = handle:body(true)
  -- A response with trailers but no data resumes the wait above with nil; asked
  -- again, at end of stream, Envoy makes the empty body that can be written to.
  if body == nil then body = handle:body(true) end
  headers = handle:headers()
  -- Trailers only matter when a server failed after sending initial metadata.
  local trailers = handle:trailers()
  local function get(name, decode)
    local value = headers:get(name)
    if value == nil and trailers ~= nil then value = trailers:get(name) end
    if value ~= nil and decode then value = percent_decode(value) end
    return value
  end

  if grpc_status == "0" then
    success_response(headers, body, get, path, request_id)
  else
    error_response(headers, body, get, grpc_status, path, request_id)
  end
  if request_id ~= "" then headers:replace("x-request-id", request_id) end
  strip_internal(headers)
  strip_internal(trailers)
end

function envoy_on_response(response_handle)
  local ok, problem = pcall(envelope, response_handle)
  if not ok then
    -- A bug above must not let the raw gRPC answer through: 500 INTERNAL instead.
    -- (The header_mutation filter in envoy.yaml strips grpc-*/x-bank-* as well.)
    response_handle:logErr("envelope.lua: " .. tostring(problem))
    local body = response_handle:body(true)
    local headers = response_handle:headers()
    headers:replace(":status", "500")
    strip_internal(headers)
    replace_body(headers, body,
      error_envelope(INTERNAL[2], INTERNAL[3], nil, nil, headers:get("x-request-id") or ""))
  end
end
