local t = {5, 2, 8, 1, 9, 3}
table.sort(t, function(a, b) return a > b end)
print(table.concat(t, ","), #t, table.unpack({1, 2, 3}))
local function counter() local n = 0 return function() n = n + 1 return n end end
local c = counter(); c(); print(c(), select("#", 1, nil, 3), select(2, "a", "b", "c"))
local function va(...) local s = 0 for _, v in ipairs({...}) do s = s + v end return s, ... end
print(va(1, 2, 3))
for i = 1, 3 do if i == 2 then goto continue end io.write(i, " ") ::continue:: end print()
local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
print(co(1), co(10))
local mt = {__index = function(_, k) return k .. "!" end, __add = function(a, b) return "added" end,
  __tostring = function() return "OBJ" end, __len = function() return 42 end}
local o = setmetatable({}, mt); print(o.foo, o + o, tostring(o), #o)
do local x <close> = setmetatable({}, {__close = function() print("closed") end}) print("in") end
print(pcall(error, {code = 1}), pcall(error, "msg", 0), select(2, pcall(error, "lvl")))
print(xpcall(function() error("deep") end, function(m) return "handled: " .. m end))
print(utf8.char(72, 228, 8364, 128512), utf8.len("häll€"), utf8.codepoint("€"), #utf8.char(128512))
for p, c in utf8.codes("aé") do io.write(p, ":", c, " ") end print()
print(string.pack("<i4", 1):byte(1, -1)) print(string.unpack("<i4 z", string.pack("<i4 z", -2, "hi")))
print(string.packsize("i4 i8 d"), ("é"):upper(), ("ÀB"):lower())
