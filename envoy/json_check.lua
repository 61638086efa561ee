-- json_check.lua: strict REST requests at the edge (API_CONTRACT.md "Requests are strict").
--
-- Runs on requests only, after envelope.lua and before the buffer filter and the
-- transcoder. For every REST request (not a genuine gRPC call, not /oauth/ or
-- /.well-known/, which speak forms and RFC bodies):
--   * a URL over URL_BYTES_MAX is 414;
--   * a non-empty body must be declared application/json (charset utf-8 at most),
--     else 415;
--   * the body must be RFC 8259 JSON: no single quotes, comments, trailing commas,
--     leading zeros, raw control characters in strings or trailing garbage, and no
--     object with a key twice (at any depth), else 400 (naming the key);
--   * the server is told which key paths the body holds and what kind of value
--     each has, in x-bank-json-fields: `path=kind` entries joined by commas, the
--     keys of a path joined by dots, each key percent-encoded beyond [A-Za-z0-9_];
--     an array's elements are entries of the array's own path. Kinds: n number,
--     d plain decimal string (`"12.50"`), s other string, t boolean, z null,
--     o object, a array. At most FIELDS_MAX entries and FIELDS_BYTES_MAX bytes
--     (else 400). The server
--     (server/api/validation.py) refuses unknown and output-only fields and
--     numbers sent as strings that are not plain decimals.
-- Refusals are Envoy local replies: local_reply_config makes the envelope, with
-- the text given here as error.details and x-bank-error-field as error.field.
-- Whatever a client sent as x-bank-json-fields or x-envoy-original-path is dropped,
-- and so is any header whose name gRPC metadata cannot carry (drop_unforwardable).

local URL_BYTES_MAX = 4096
local FIELDS_MAX = 128
-- x-bank-json-fields at most this long (the server's metadata limit is 32 KiB,
-- and the headers the client sent may take 8 KiB of it).
local FIELDS_BYTES_MAX = 4096
local DEPTH_MAX = 32

local byte, find, sub, format = string.byte, string.find, string.sub, string.format

local function starts_with(text, prefix)
  return sub(text, 1, #prefix) == prefix
end

-- "application/json", optionally with parameters, of which a charset must be UTF-8.
local function is_json(content_type)
  local media, parameters = content_type:match("^%s*([^;%s]+)%s*(.*)$")
  if media == nil or media:lower() ~= "application/json" then return false end
  for name, value in parameters:gmatch(";%s*([^=;%s]+)%s*=%s*\"?([^\";%s]*)\"?%s*") do
    if name:lower() == "charset" and value:lower() ~= "utf-8" then return false end
  end
  return true
end

-- A JSON number without exponent, as a string value (`"12.50"`).
local function is_plain_decimal(text)
  return find(text, "^%-?0$") ~= nil or find(text, "^%-?[1-9]%d*$") ~= nil
    or find(text, "^%-?0%.%d+$") ~= nil or find(text, "^%-?[1-9]%d*%.%d+$") ~= nil
end

local function encode_key(key)
  return (key:gsub("[^%w_]", function(c) return format("%%%02X", byte(c)) end))
end

-- UTF-8 of a code point (for keys written with \u escapes).
local function utf8(code)
  if code < 0x80 then return string.char(code) end
  if code < 0x800 then
    return string.char(0xC0 + math.floor(code / 64), 0x80 + code % 64)
  end
  if code < 0x10000 then
    return string.char(0xE0 + math.floor(code / 4096), 0x80 + math.floor(code / 64) % 64,
                       0x80 + code % 64)
  end
  return string.char(0xF0 + math.floor(code / 262144), 0x80 + math.floor(code / 4096) % 64,
                     0x80 + math.floor(code / 64) % 64, 0x80 + code % 64)
end

local SIMPLE_ESCAPES = {['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f",
                        n = "\n", r = "\r", t = "\t"}

local function fail(details, field)
  error({details = details, field = field}, 0)
end

-- The JSON text `text` walked once; `list` collects the "path=kind" entries.
local function checker(text)
  local pos, entries, list, bytes = 1, {}, {}, 0

  local function skip()
    pos = find(text, "[^ \t\n\r]", pos) or #text + 1
  end

  local function note(path, kind)
    if path == nil then return end  -- the top-level value itself
    local kinds = entries[path]
    if kinds == nil then
      kinds = {}
      entries[path] = kinds
    end
    if not kinds[kind] then
      kinds[kind] = true
      local entry = path .. "=" .. kind
      list[#list + 1] = entry
      bytes = bytes + #entry + 1
      if #list > FIELDS_MAX then fail("The JSON body has too many fields") end
      if bytes > FIELDS_BYTES_MAX then fail("The JSON body's keys are too long") end
    end
  end

  -- A string starting at pos (a quote); returns its text (decoded) and whether it had escapes.
  local function read_string()
    local parts, start, escaped = {}, pos + 1, false
    while true do
      local stop = find(text, '["\\%z\1-\31]', start)
      if stop == nil then fail("Unterminated string") end
      local c = byte(text, stop)
      parts[#parts + 1] = sub(text, start, stop - 1)
      if c == 34 then pos = stop + 1; return table.concat(parts), escaped end
      if c ~= 92 then fail("Control character in a string (escape it)") end
      escaped = true
      local kind = sub(text, stop + 1, stop + 1)
      if kind == "u" then
        local hex = sub(text, stop + 2, stop + 5)
        if not find(hex, "^%x%x%x%x$") then fail("Bad \\u escape in a string") end
        local code = tonumber(hex, 16)
        start = stop + 6
        if code >= 0xD800 and code <= 0xDBFF and sub(text, start, start + 1) == "\\u" then
          local low = tonumber(sub(text, start + 2, start + 5), 16)
          if low and low >= 0xDC00 and low <= 0xDFFF then
            code = 0x10000 + (code - 0xD800) * 1024 + (low - 0xDC00)
            start = start + 6
          end
        end
        parts[#parts + 1] = utf8(code)
      elseif SIMPLE_ESCAPES[kind] then
        parts[#parts + 1] = SIMPLE_ESCAPES[kind]
        start = stop + 2
      else
        fail("Bad escape in a string")
      end
    end
  end

  local value  -- forward declaration (objects and arrays hold values)

  local function object(path, depth)
    pos = pos + 1
    local seen = {}
    skip()
    if byte(text, pos) == 125 then pos = pos + 1; return end
    while true do
      skip()
      if byte(text, pos) ~= 34 then fail("Expected a double-quoted key") end
      local key = read_string()
      local key_path = (path and path .. "." or "") .. encode_key(key)
      if seen[key] then fail("Duplicate key " .. key, key_path) end
      seen[key] = true
      skip()
      if byte(text, pos) ~= 58 then fail("Expected ':' after a key") end
      pos = pos + 1
      value(key_path, depth + 1)
      skip()
      local c = byte(text, pos)
      pos = pos + 1
      if c == 125 then return end
      if c ~= 44 then fail("Expected ',' or '}' in an object") end
    end
  end

  local function array(path, depth)
    pos = pos + 1
    skip()
    if byte(text, pos) == 93 then pos = pos + 1; return end
    while true do
      value(path, depth + 1)
      skip()
      local c = byte(text, pos)
      pos = pos + 1
      if c == 93 then return end
      if c ~= 44 then fail("Expected ',' or ']' in an array") end
    end
  end

  value = function(path, depth)
    if depth > DEPTH_MAX then fail("The JSON body is nested too deeply") end
    skip()
    local c = byte(text, pos)
    if c == 123 then
      note(path, "o"); object(path, depth)
    elseif c == 91 then
      note(path, "a"); array(path, depth)
    elseif c == 34 then
      local text_value, escaped = read_string()
      note(path, (not escaped and is_plain_decimal(text_value)) and "d" or "s")
    elseif sub(text, pos, pos + 3) == "true" then
      pos = pos + 4; note(path, "t")
    elseif sub(text, pos, pos + 4) == "false" then
      pos = pos + 5; note(path, "t")
    elseif sub(text, pos, pos + 3) == "null" then
      pos = pos + 4; note(path, "z")
    else
      local _, stop = find(text, "^%-?0", pos)
      if stop == nil then _, stop = find(text, "^%-?[1-9]%d*", pos) end
      if stop == nil then fail("Not a JSON value") end
      local _, fraction = find(text, "^%.%d+", stop + 1)
      stop = fraction or stop
      local _, exponent = find(text, "^[eE][+-]?%d+", stop + 1)
      pos = (exponent or stop) + 1
      if find(text, "^[%w.+-]", pos) then fail("Not a JSON number") end
      note(path, "n")
    end
  end

  return function()
    value(nil, 0)
    skip()
    if pos <= #text then fail("Unexpected text after the JSON value") end
    return table.concat(list, ",")
  end
end

local function refuse(handle, status, details, field)
  local headers = {[":status"] = tostring(status)}
  if field ~= nil then
    -- The key path as sent (percent-decoded), when it is a plain name.
    field = field:gsub("%%(%x%x)", function(hex) return string.char(tonumber(hex, 16)) end)
    if find(field, "^[%w_.%-]+$") then headers["x-bank-error-field"] = field end
  end
  handle:respond(headers, details)
end

-- Header names HTTP allows but gRPC metadata cannot carry (`+`, `!`, `~`,
-- `|`...): no header of the API is named so, and forwarded they would make
-- the transcoded call fail (500), so they are dropped here.
local function drop_unforwardable(headers)
  local unfit = {}
  for name, _ in pairs(headers) do
    if sub(name, 1, 1) ~= ":" and not find(name, "^[%w%-_.]+$") then
      unfit[#unfit + 1] = name
    end
  end
  for _, name in ipairs(unfit) do headers:remove(name) end
end

function envoy_on_request(handle)
  local headers = handle:headers()
  headers:remove("x-bank-json-fields")
  headers:remove("x-envoy-original-path")
  drop_unforwardable(headers)
  local path = headers:get(":path") or ""
  if #path > URL_BYTES_MAX then
    return refuse(handle, 414, "The URL limit is " .. URL_BYTES_MAX .. " bytes")
  end
  local content_type = headers:get("content-type") or ""
  if starts_with(content_type, "application/grpc") or starts_with(path, "/oauth/")
      or starts_with(path, "/.well-known/") then
    return
  end
  local body = handle:body()  -- nil when there is none
  local length = body and body:length() or 0
  if length == 0 then return end
  if not is_json(content_type) then
    return refuse(handle, 415, "JSON bodies must be sent as Content-Type: application/json")
  end
  local ok, result = pcall(checker(body:getBytes(0, length)))
  if not ok then
    if type(result) ~= "table" then
      handle:logErr("json_check.lua: " .. tostring(result))
      result = {details = "The JSON body could not be read"}
    end
    return refuse(handle, 400, result.details, result.field)
  end
  -- Header objects taken before body() are dead after it.
  handle:headers():add("x-bank-json-fields", result)
end
