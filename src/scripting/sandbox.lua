-- Locks the environment as Redis 7.0 does (chunk "=redis_sandbox", run once, last): the
-- library tables and the globals become read-only, reading an undefined global is an
-- error. Globals move to a hidden table that the (empty) global table reads through, so
-- no assignment, rawset or setmetatable can change what later scripts see. Returns the
-- hidden table (where the server writes KEYS and ARGV), a function that switches the view
-- of the globals, and the function that makes a read-only view of a table.
local libraries = ...
local G = _G
local error, tostring, pairs, ipairs = error, tostring, pairs, ipairs
local raw_setmetatable, raw_rawset, raw_rawget, raw_getmetatable = setmetatable, rawset, rawget, getmetatable

local raw_next = next
local protected = raw_setmetatable({}, {__mode = 'k'})
-- Read-only view -> the table it shows (rawget, next and pairs read through views).
local originals = raw_setmetatable({}, {__mode = 'k'})
local function readonly() error('Attempt to modify a readonly table', 2) end
-- What getmetatable answers for a protected table: itself read-only.
local standin = {}
raw_setmetatable(standin, {__newindex = readonly, __metatable = standin})
protected[standin] = true

local function freeze(t)
  local view = {}
  raw_setmetatable(view, {__index = t, __newindex = readonly, __metatable = standin})
  protected[view] = true
  originals[view] = t
  return view
end

for _, name in ipairs(libraries) do
  local lib = raw_rawget(G, name)
  if lib ~= nil then raw_rawset(G, name, freeze(lib)) end
end

setmetatable = function(t, mt)
  if protected[t] then error('Attempt to modify a readonly table', 0) end
  return raw_setmetatable(t, mt)
end
rawset = function(t, k, v)
  if protected[t] then error('Attempt to modify a readonly table', 0) end
  return raw_rawset(t, k, v)
end
rawget = function(t, k) return raw_rawget(originals[t] or t, k) end
next = function(t, k) return raw_next(originals[t] or t, k) end
pairs = function(t) return next, t, nil end
raw_getmetatable('').__metatable = standin

local hidden = {}
for k, v in pairs(G) do hidden[k] = v end
for k in pairs(hidden) do raw_rawset(G, k, nil) end
hidden._G = G
originals[G] = hidden
raw_setmetatable(hidden, {__index = function(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end})
local globals_meta = {__index = hidden, __newindex = readonly, __metatable = standin}
raw_setmetatable(G, globals_meta)
protected[G] = true
-- FUNCTION LOAD runs a library with another view of the globals (only what a library may
-- use while it registers its functions); `nil` restores the normal one.
local function set_view(view)
  globals_meta.__index = view or hidden
end
return hidden, set_view, freeze
