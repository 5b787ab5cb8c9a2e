-- A Lua handler served by tests/serve/serve-tests.sh through a config file.
function greet(name, times)
   return { greeting = string.rep("hello, " .. name, times or 1, " "), words = #name }
end
