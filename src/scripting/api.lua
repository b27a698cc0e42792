-- The `redis` table and the overrides of Redis 7.0's scripting environment, run once per
-- interpreter (chunk "=redis_api"). `impl` holds the Rust side: `run` (the host of the
-- running script, present only while one runs), `sha1hex`, `log`, `random`, `is_killed`.
local impl, redis = ...
local error, type, select, tostring = error, type, select, tostring

local outside = {
  [0] = 'redis.call/pcall can only be called inside a script invocation',
  [1] = 'redis.setresp can only be called inside a script invocation',
  [2] = 'redis.set_repl can only be called inside a script invocation',
  [3] = 'redis.acl_check_cmd can only be called inside a script invocation',
}

local function dispatch(op, ...)
  local run = impl.run
  if run == nil then
    error({err = 'ERR ' .. outside[op]}, 0)
  end
  -- Thousands of arguments (`redis.call('lpush', k, unpack(t))`) would overflow the
  -- stack of a host call: they travel in a table.
  local n = select('#', ...)
  if n > 64 then return run(op + 100, {...}, n) end
  return run(op, ...)
end

-- The functions that raise their errors are C functions made by the server around these
-- `ok, value` forms (a Lua wrapper would be tail-called away from the line that called it,
-- and errors name that line).
impl.call = function(...) return dispatch(0, ...) end
impl.setresp = function(...) return dispatch(1, ...) end
impl.set_repl = function(...) return dispatch(2, ...) end
impl.acl_check_cmd = function(...) return dispatch(3, ...) end
redis.pcall = function(...) local _, r = dispatch(0, ...) return r end
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.status_reply = function(...)
  if select('#', ...) ~= 1 or type((...)) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  return {ok = (...)}
end

-- Redis's pcall: an error raised as a table ({err = ...}) is returned as its message, and
-- a script killed by SCRIPT KILL cannot catch its own end.
local raw_pcall, is_killed = pcall, impl.is_killed
impl.raw_pcall = raw_pcall
local function pcall_result(ok, ...)
  if ok then return true, ... end
  local e = ...
  if is_killed() then error(e, 0) end
  if type(e) == 'table' and type(e.err) == 'string' then e = e.err end
  return false, e
end
pcall = function(...) return pcall_result(raw_pcall(...)) end

-- Precompiled chunks can break out of the interpreter: only source code loads.
local raw_loadstring = loadstring
local function is_binary(s) return type(s) == 'string' and s:byte(1) == 27 end
loadstring = function(s, name)
  if is_binary(s) then return nil, 'attempt to load a binary chunk' end
  return raw_loadstring(s, name)
end
load = function(reader, name)
  local parts = {}
  if type(reader) ~= 'function' then error('bad argument #1 to \'load\' (function expected)', 2) end
  while true do
    local piece = reader()
    if piece == nil or piece == '' then break end
    parts[#parts + 1] = piece
  end
  return loadstring(table.concat(parts), name)
end
